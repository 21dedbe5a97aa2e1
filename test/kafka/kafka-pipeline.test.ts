import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, Consumer } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tickflow } from '../support/cli.ts';
import { freshDatabase, readTables } from '../support/postgres.ts';
import { consumeLines, uniqueName } from '../support/stack.ts';
import { BROKERS, alertRows, dirtyLines, expectedFor, pipelineTopics, readTopic, writeLines, type Topics } from './kafka-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'tickflow-kafka-'));
const file = join(dir, 'trades.jsonl');
let topics: Topics;
let pg: { url: string; drop: () => Promise<void> };
let lines: Buffer[];
let expected: ReturnType<typeof expectedFor>;

beforeAll(async () => {
  lines = dirtyLines(6_000, 4242);
  writeLines(file, lines);
  topics = await pipelineTopics(dir, 'kexact');
  expected = expectedFor(lines, topics);
  pg = await freshDatabase('tickflow_kafka');
});

afterAll(async () => {
  await pg?.drop();
});

describe('produce → run --source kafka → PostgreSQL, alerts and dead-letter topics', () => {
  it('the generated input exercises every path', () => {
    expect(expected.duplicates).toBeGreaterThan(20);
    expect(expected.rejected.length).toBeGreaterThan(20);
    expect(expected.alerts.some((a) => a.startsWith('spike:'))).toBe(true);
    expect(expected.alerts.some((a) => a.startsWith('large:'))).toBe(true);
  });

  it('produce --from file: sends every line, keyed by ticker', async () => {
    const r = await tickflow(['produce', '--from', `file:${file}`, '--topic', topics.input, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).sent).toBe(lines.length);
    const onTopic = await readTopic(topics.input);
    expect(onTopic.length).toBe(lines.length);
    // A ticker's trades share one partition, so their order survives.
    const partitionsOf = new Map<string, Set<number>>();
    for (const rec of onTopic) if (rec.key !== null) partitionsOf.set(rec.key, (partitionsOf.get(rec.key) ?? new Set()).add(rec.partition));
    for (const [, ps] of partitionsOf) expect(ps.size).toBe(1);
    expect(new Set(onTopic.map((x) => x.partition)).size).toBe(3);
  });

  it('run --source kafka --stop-at-end stores exactly the expected rows', async () => {
    const r = await tickflow(
      ['run', '--source', 'kafka', '--spec', topics.specFile, '--group', uniqueName('g'), '--db', pg.url, '--stop-at-end', '--no-dashboard', '--json'],
      { timeoutMs: 300_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ read: lines.length, stored: expected.trades.length, duplicates: expected.duplicates, late: 0 });
    const actual = await readTables(pg.url);
    expect(actual.trades).toEqual(expected.trades);
    expect(actual.alerts).toEqual(expected.alerts);
    expect(actual.candles).toEqual(expected.candles);
    expect(actual.rejected).toEqual(expected.rejected);
  });

  it('the alerts topic carries exactly the alert set, keyed by ticker, as the alert JSON of the contract', async () => {
    const records = await readTopic(topics.alerts);
    expect(alertRows(records)).toEqual(expected.alerts);
    for (const rec of records) {
      const a = JSON.parse(rec.value.toString());
      expect(rec.key).toBe(a.ticker);
      expect(Object.keys(a)).toEqual(
        expect.arrayContaining(['alert_id', 'kind', 'trade_id', 'ticker', 'price', 'volume', 'trade_timestamp', 'detected_at', 'message']),
      );
      if (a.kind === 'large_trade') expect(a.message).toBe(`Large trade detected for ${a.ticker}`);
    }
  });

  it('the dead-letter topic has the raw bytes with reason and source position headers, matching the table', async () => {
    const records = await readTopic(topics.dlq);
    const fromTopic = records.map((r) => `${r.headers['tickflow.reason.code']}|${r.value.toString('base64')}`).sort();
    expect(fromTopic).toEqual(expected.rejected);
    const positions = records
      .map(
        (r) =>
          `${r.headers['tickflow.source.topic']}|${r.headers['tickflow.source.partition']}|${r.headers['tickflow.source.offset']}|${r.headers['tickflow.reason.code']}`,
      )
      .sort();
    expect(positions).toEqual((await readTables(pg.url)).deadLetters);
    for (const r of records) expect(r.headers['tickflow.reason']!.length).toBeGreaterThan(3);
  });

  it("Kafka's own ConsoleConsumer reads our alerts", async () => {
    const n = (await readTopic(topics.alerts)).length;
    const out = await consumeLines(topics.alerts, n, { withKeys: true });
    expect(out.length).toBe(n);
    const ids = new Set(out.map((l) => JSON.parse(l.split('\t')[1]!).alert_id as string));
    expect([...ids].sort()).toEqual(expected.alerts.map((a) => a.split('|')[0]).sort());
    for (const l of out) expect(l.split('\t')[0]).toBe(JSON.parse(l.split('\t')[1]!).ticker);
  });

  it('a second run over the same topic (new group) stores nothing new', async () => {
    const r = await tickflow(
      ['run', '--source', 'kafka', '--spec', topics.specFile, '--group', uniqueName('g'), '--db', pg.url, '--stop-at-end', '--no-dashboard', '--json'],
      { timeoutMs: 300_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).stored).toBe(0);
    const actual = await readTables(pg.url);
    expect(actual.trades).toEqual(expected.trades);
    expect(actual.rejected).toEqual(expected.rejected);
  });

  it('a group resumes from its checkpoint when its offsets go back, and honours offsets moved ahead of it', async () => {
    const group = uniqueName('g');
    const run = async () => {
      const r = await tickflow(
        ['run', '--source', 'kafka', '--spec', topics.specFile, '--group', group, '--db', pg.url, '--stop-at-end', '--no-dashboard', '--json'],
        { timeoutMs: 300_000 },
      );
      expect(r.code, r.stderr).toBe(0);
      return { ...(JSON.parse(r.stdout) as { read: number }), stderr: r.stderr };
    };
    const setOffsets = async (to: 'earliest' | 'latest') => {
      const reader = new Consumer({ clientId: 'tickflow-test-offsets', bootstrapBrokers: [BROKERS], groupId: uniqueName('o') });
      const ends = await reader.listOffsets({ topics: [topics.input] }).finally(() => reader.close());
      const admin = new Admin({ clientId: 'tickflow-test-admin', bootstrapBrokers: [BROKERS] });
      try {
        const partitionOffsets = (ends.get(topics.input) ?? []).map((end, partition) => ({ partition, offset: to === 'latest' ? end : 0n }));
        await admin.alterConsumerGroupOffsets({ groupId: group, topics: [{ name: topics.input, partitionOffsets }] });
      } finally {
        await admin.close();
      }
    };
    expect((await run()).read).toBe(lines.length);
    // The checkpoints say where each partition resumes: together, after every record.
    const q = await tickflow(['query', 'checkpoints', '--db', pg.url, '--json']);
    expect(q.code, q.stderr).toBe(0);
    const rows = q.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { group_id: string; next_offset: string; tickers: number });
    const ours = rows.filter((r) => r.group_id === group);
    expect(ours.length).toBe(3);
    expect(ours.reduce((n, r) => n + Number(r.next_offset), 0)).toBe(lines.length);
    expect(ours.every((r) => r.tickers > 0)).toBe(true);
    // Offsets reset to the start: the checkpoint says everything is stored; nothing is read again.
    await setOffsets('earliest');
    const again = await run();
    expect(again.stderr).toMatch(/resuming from checkpoint: /);
    expect(again.read).toBe(0);
    // Offsets moved past records the group never read (to skip them): honoured, and said.
    const more = join(dir, 'more.jsonl');
    writeLines(more, dirtyLines(50, 99));
    expect((await tickflow(['produce', '--from', `file:${more}`, '--topic', topics.input])).code).toBe(0);
    await setOffsets('latest');
    const skipped = await run();
    expect(skipped.stderr).toMatch(/the group's committed offset \d+ is ahead of its checkpoint/);
    expect(skipped.read).toBe(0);
  });
});
