/**
 * Helpers for the Kafka tests: a generated dirty input, the pipeline topics under unique
 * names, a reader for whole topics, and the tables in the oracle's text form.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { join } from 'node:path';
import { Admin, Consumer } from '@platformatic/kafka';
import { dirtyFeed } from '../../src/simulate/dirty-feed.ts';
import { specWith, type PipelineSpec } from '../../src/spec/spec.ts';
import { openStore } from '../../src/store/open-store.ts';
import { ACTUAL_QUERIES, oracle } from '../support/oracle.ts';
import { uniqueName } from '../support/stack.ts';
import { tickflow } from '../support/cli.ts';

export const BROKERS = process.env.KAFKA_BROKERS || `127.0.0.1:${process.env.TICKFLOW_KAFKA_PORT || 9092}`;

export interface Topics {
  input: string;
  alerts: string;
  dlq: string;
  specFile: string;
  spec: PipelineSpec;
}

/** Input/alerts/DLQ topics nobody else uses, created through `tickflow topics create`, and a spec file naming them. */
export async function pipelineTopics(dir: string, prefix: string, partitions = 3, spec: object = {}): Promise<Topics> {
  const input = uniqueName(prefix);
  const t = { input, alerts: `${input}.alerts`, dlq: `${input}.dlq` };
  const r = await tickflow(['topics', 'create', '--topic', t.input, '--partitions', String(partitions), '--alerts-topic', t.alerts, '--dlq-topic', t.dlq]);
  if (r.code !== 0) throw new Error(`topics create failed: ${r.stderr}`);
  const full = { ...spec, input: { ...(spec as { input?: object }).input, topic: t.input }, topics: { alerts: t.alerts, deadLetters: t.dlq } };
  const specFile = join(dir, `${input}.spec.json`);
  writeFileSync(specFile, JSON.stringify(full));
  return { ...t, specFile, spec: specWith(full) };
}

/** A dirty JSONL file (replays, malformed lines, the `timestamp` alias, bounded disorder) dated in the past. */
export function dirtyLines(count: number, seed: number, extra: { late?: number } = {}): Buffer[] {
  const startMs = Date.now() - 6 * 3600_000;
  const lines = [...dirtyFeed({ seed, count, startMs, stepMs: 97, largeFraction: 0.03, late: extra.late ?? 0 })].map((l) => Buffer.from(l));
  // Oddities of real files: invalid UTF-8 and an id with a tab.
  lines.splice(100, 0, Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), Buffer.from(`{"trade_id":"tab\\tid","ticker":"TAB","price":"1","volume":1,"trade_timestamp":"${new Date(startMs + 5_000).toISOString()}"}`));
  return lines;
}

export function writeLines(path: string, lines: Buffer[]): void {
  writeFileSync(path, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
}

/** What the database must hold after the lines went through Kafka (positions of dead letters aside). */
export function expectedFor(lines: Buffer[], t: Topics) {
  const e = oracle(lines, t.input, t.spec);
  // The oracle names dead letters by line; through Kafka they are named by partition/offset,
  // so compare what was rejected (reason code + raw bytes) instead.
  const rejected = e.deadLetters.map((d) => {
    const parts = d.split('|');
    const line = Number(parts[2]);
    return `${parts[3]}|${lines[line - 1]!.toString('base64')}`;
  });
  return { ...e, rejected: rejected.sort() };
}

export async function readTables(db: string): Promise<Record<string, string[]>> {
  const store = await openStore(db);
  try {
    const out: Record<string, string[]> = {};
    for (const [k, q] of Object.entries(ACTUAL_QUERIES)) out[k] = (await store.query<{ row: string }>(q)).map((r) => r.row).sort();
    out.rejected = (await store.query<{ row: string }>(`SELECT reason_code || '|' || encode(raw, 'base64') AS row FROM dead_letters`))
      .map((r) => r.row.replace(/\n/g, ''))
      .sort();
    out.positions = (await store.query<{ row: string }>(`SELECT source || '|' || source_partition || '|' || source_offset || '|' || reason_code AS row FROM dead_letters`))
      .map((r) => r.row)
      .sort();
    return out;
  } finally {
    await store.close();
  }
}

export interface TopicRecord {
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  partition: number;
  offset: bigint;
}

/** Every record on a topic, read from the beginning until the end offsets seen at the start. */
export async function readTopic(topic: string): Promise<TopicRecord[]> {
  const consumer = new Consumer({ clientId: 'tickflow-test-reader', bootstrapBrokers: [BROKERS], groupId: uniqueName('reader'), autocommit: false });
  try {
    const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
    const total = ends.reduce((s, o) => s + Number(o), 0);
    const out: TopicRecord[] = [];
    if (total === 0) return out;
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 200 });
    const deadline = Date.now() + 60_000;
    for await (const m of stream) {
      const headers: Record<string, string> = {};
      for (const [k, v] of m.headers) headers[k.toString()] = v.toString();
      out.push({ key: m.key?.toString() ?? null, value: m.value, headers, partition: m.partition, offset: m.offset });
      if (out.length >= total || Date.now() > deadline) break;
    }
    await stream.close();
    return out;
  } finally {
    await consumer.close(true);
  }
}

/** The alerts topic in the oracle's text form, one entry per alert_id (replays collapse). */
export function alertRows(records: TopicRecord[]): string[] {
  const byId = new Map<string, string>();
  for (const r of records) {
    const a = JSON.parse(r.value.toString()) as Record<string, unknown>;
    byId.set(String(a.alert_id), `${a.alert_id}|${a.kind}|${a.ticker}|${a.volume}|${a.threshold ?? ''}|${a.baseline_mean ?? ''}`);
  }
  return [...byId.values()].sort();
}

/** Offsets a consumer group has committed on a topic, summed over partitions (0 before any commit). */
export async function committedTotal(group: string, topic: string): Promise<number> {
  const admin = new Admin({ clientId: 'tickflow-test-admin', bootstrapBrokers: [BROKERS] });
  try {
    const [g] = await admin.listConsumerGroupOffsets({ groups: [group] });
    const t = g?.topics.find((x) => x.name === topic);
    return (t?.partitions ?? []).reduce((s, p) => s + Math.max(0, Number(p.committedOffset)), 0);
  } finally {
    await admin.close();
  }
}

/** Rows in stock_trades now (0 while the table does not exist yet). */
export async function countTrades(url: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql`SELECT count(*)::int AS n FROM stock_trades`.catch(() => [{ n: 0 }]);
    return row!.n as number;
  } finally {
    await sql.end();
  }
}

/**
 * Stops a long-running consumer once the database holds every expected trade (SIGTERM: it
 * flushes and commits), and returns its output; fails with its stderr if it never gets there.
 */
export async function drainAndStop(consumer: { child: ChildProcess; done: Promise<{ code: number | null; stderr: string }>; stderr: () => string }, url: string, trades: number, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  while ((await countTrades(url)) < trades) {
    if (Date.now() > deadline || consumer.child.exitCode !== null) {
      throw new Error(`the consumer did not store ${trades} trades (exit ${consumer.child.exitCode}): ${consumer.stderr().slice(-3_000)}`);
    }
    await sleep(100);
  }
  await sleep(500);
  consumer.child.kill('SIGTERM');
  return consumer.done;
}
