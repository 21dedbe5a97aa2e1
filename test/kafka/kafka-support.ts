/**
 * Helpers for the Kafka tests: a generated dirty input, the pipeline topics under unique
 * names, what the oracle expects of them, a reader for whole topics, and a group's progress.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Admin, Consumer } from '@platformatic/kafka';
import { dirtyFeed } from '../../src/simulate/dirty-feed.ts';
import { specWith, type PipelineSpec } from '../../src/spec/spec.ts';
import { oracle } from '../support/oracle.ts';
import { uniqueName } from '../support/stack.ts';
import { type CliResult, tickflow, type TickflowProcess } from '../support/cli.ts';
import { waitFor } from '../support/wait.ts';

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
  lines.splice(
    100,
    0,
    Buffer.from([0x7b, 0xc3, 0x28, 0x7d]),
    Buffer.from(`{"trade_id":"tab\\tid","ticker":"TAB","price":"1","volume":1,"trade_timestamp":"${new Date(startMs + 5_000).toISOString()}"}`),
  );
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
    const total = await endOffsetsTotal(topic);
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
    const o = (k: string): string => (a[k] === undefined ? '' : k === 'factor' ? Number(a[k]).toFixed(2) : String(a[k]));
    const details = ['threshold', 'amount', 'notional', 'baseline_mean', 'factor', 'lookback', 'reference_price', 'change_percent', 'window_seconds'].map(o);
    byId.set(String(a.alert_id), [a.alert_id, a.kind, a.rule, a.severity, a.ticker, a.volume, ...details].join('|'));
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

/** Sum over partitions of the offsets a topic ends at now. */
export async function endOffsetsTotal(topic: string): Promise<number> {
  const consumer = new Consumer({ clientId: 'tickflow-test-offsets', bootstrapBrokers: [BROKERS], groupId: uniqueName('offsets'), autocommit: false });
  try {
    return ((await consumer.listOffsets({ topics: [topic] })).get(topic) ?? []).reduce((s, o) => s + Number(o), 0);
  } finally {
    await consumer.close(true);
  }
}

/**
 * Waits until the group has committed the whole topic as it ends now: everything read was
 * stored (a consumer commits offsets only after the transaction that stored them). `members`
 * fail the wait at once if one of them exits.
 */
export async function committedAll(group: string, topic: string, members: TickflowProcess[], timeoutMs = 180_000): Promise<void> {
  const end = await endOffsetsTotal(topic);
  const stderr = () => members.map((m) => m.stderr.slice(-3_000)).join('\n');
  await waitFor(
    async () => {
      if (members.some((m) => !m.running)) throw new Error(`a consumer exited before the group had read the topic: ${stderr()}`);
      return (await committedTotal(group, topic)) >= end;
    },
    { what: `group ${group} to commit all ${end} records of ${topic}`, timeoutMs, context: stderr },
  );
}

/** Once the group committed the whole topic, stops the consumer with SIGTERM (it flushes and commits); returns its output. */
export async function drainAndStop(consumer: TickflowProcess, group: string, topic: string, timeoutMs = 180_000): Promise<CliResult> {
  await committedAll(group, topic, [consumer], timeoutMs);
  return consumer.stop('SIGTERM');
}

/**
 * `run --stop-at-end` on the group: takes every checkpoint over, reads what is left, and closes
 * the open windows (a stopped consumer only paused them). Returns its JSON summary.
 */
export async function closeOut(specFile: string, group: string, db: string): Promise<{ read: number; stored: number }> {
  const r = await tickflow(['run', '--source', 'kafka', '--no-dashboard', '--json', '--spec', specFile, '--group', group, '--db', db, '--stop-at-end']);
  if (r.code !== 0) throw new Error(`run --stop-at-end exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as { read: number; stored: number };
}
