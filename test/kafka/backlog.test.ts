/**
 * A consumer catching up a dense backlog (many trades per millisecond of event time, more than
 * the client's fetch buffers hold) must hand partitions over aligned in event time: the same
 * rows as the embedded engine over the file, no trade made late by another partition running
 * ahead. This once lost 15 % of a 200k backlog to "late" (docs/kafka.md, partition merge).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dirtyFeed } from '../../src/simulate/dirty-feed.ts';
import { tickflow } from '../support/cli.ts';
import { freshDatabase, readTables } from '../support/postgres.ts';
import { uniqueName } from '../support/stack.ts';
import { expectedFor, pipelineTopics, writeLines } from './kafka-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'tickflow-backlog-'));
const dbs: { drop: () => Promise<void> }[] = [];

afterAll(async () => {
  for (const d of dbs) await d.drop();
});

describe('run --source kafka over a dense backlog', () => {
  it('stores the rows the oracle computes: nothing late, every candle and spike alert exact', async () => {
    const lines = [
      ...dirtyFeed({ seed: 8080, count: 120_000, startMs: Date.now() - 3600_000, stepMs: 2, largeFraction: 0.01, replays: 0.01, malformed: 0.005 }),
    ].map((l) => Buffer.from(l));
    const file = join(dir, 'backlog.jsonl');
    writeLines(file, lines);
    const topics = await pipelineTopics(dir, 'kbacklog');
    const expected = expectedFor(lines, topics);
    expect(expected.late).toBe(0);
    const pg = await freshDatabase('tickflow_kbacklog');
    dbs.push(pg);
    expect((await tickflow(['produce', '--from', `file:${file}`, '--topic', topics.input, '--rate', 'max'], { timeoutMs: 300_000 })).code).toBe(0);

    const r = await tickflow(
      ['run', '--source', 'kafka', '--spec', topics.specFile, '--group', uniqueName('g'), '--db', pg.url, '--stop-at-end', '--no-dashboard', '--json'],
      { timeoutMs: 300_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ read: lines.length, late: 0, duplicates: expected.duplicates });
    const actual = await readTables(pg.url);
    expect(actual.trades).toEqual(expected.trades);
    expect(actual.candles).toEqual(expected.candles);
    expect(actual.alerts).toEqual(expected.alerts);
    expect(actual.rejected).toEqual(expected.rejected);
  });

  it('a rejected record dated ahead of its partition does not hold that partition back', async () => {
    const start = Date.now() - 6 * 3600_000;
    const lines = [...dirtyFeed({ seed: 99, count: 3_200, startMs: start, stepMs: 50, replays: 0, malformed: 0, outOfOrder: 0 })].map((l) => Buffer.from(l));
    // Invalid (negative price) but with a ticker and a time of now: its time must not count.
    lines.splice(200, 0, Buffer.from(`{"trade_id":"bad-1","ticker":"AAPL","price":"-1","volume":5,"trade_timestamp":"${new Date().toISOString()}"}`));
    const file = join(dir, 'ahead.jsonl');
    writeLines(file, lines);
    const topics = await pipelineTopics(dir, 'kahead');
    const expected = expectedFor(lines, topics);
    const pg = await freshDatabase('tickflow_kahead');
    dbs.push(pg);
    expect((await tickflow(['produce', '--from', `file:${file}`, '--topic', topics.input])).code).toBe(0);
    const r = await tickflow([
      'run',
      '--source',
      'kafka',
      '--spec',
      topics.specFile,
      '--group',
      uniqueName('g'),
      '--db',
      pg.url,
      '--stop-at-end',
      '--no-dashboard',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ late: 0, dead_letters: 1 });
    const actual = await readTables(pg.url);
    expect(actual.candles).toEqual(expected.candles);
    expect(actual.alerts).toEqual(expected.alerts);
  });
});
