import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { kafkaSettingsFrom } from '../../src/kafka/config.ts';
import { HeartbeatWriter } from '../../src/kafka/heartbeat-writer.ts';
import { dirtyFeed } from '../../src/simulate/dirty-feed.ts';
import { parseTradeText } from '../../src/trade/parse.ts';
import { ACTUAL_QUERIES, oracle } from '../support/oracle.ts';
import { TickflowProcess } from '../support/cli.ts';
import { produceLines, uniqueName } from '../support/stack.ts';
import { deployForTest, expectNoJobsLeft, freshSpec, kafkaBootstrap, kafkaPartition, keyedByTicker, migratedDatabase, rest, stopJob } from './flink-support.ts';

/**
 * A finite topic and no end of input anywhere: the Flink job must still write every candle,
 * each ticker's last window included, once trading stops — with `tickflow heartbeat`'s writer
 * running, and only then. The candles, trades and alerts must equal what the embedded engine
 * computes for the same records at the end of the input (the oracle, which closes every window),
 * and what the TS consumer (`run --source kafka`, no --stop-at-end) stores from the same topic.
 */
const START = Date.UTC(2026, 10, 25, 14, 0, 0);
const IDLE_MS = 3_000;
const BOUND_MS = 2_000;
const INTERVAL_MS = 10_000;
/** Watermark emission (200 ms), JDBC flush (500 ms), heartbeat ticks, a loaded 2-core machine. */
const SLACK_MS = 20_000;

async function rows(url: string, query: string): Promise<string[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return (await sql.unsafe<{ row: string }[]>(query)).map((r) => r.row).sort();
  } finally {
    await sql.end();
  }
}

/** Polls until `check` returns null (done); fails with its last answer after `timeoutMs`. */
async function pollUntil(timeoutMs: number, check: () => Promise<string | null>): Promise<number> {
  const started = Date.now();
  let last: string | null = 'not checked';
  while (Date.now() - started < timeoutMs) {
    last = await check();
    if (last === null) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`not within ${timeoutMs / 1000} s: ${last}`);
}

afterAll(async () => {
  await expectNoJobsLeft();
});

describe('Flink: windows close when trading stops', () => {
  let jobId: string | undefined;
  let name: string | undefined;
  let writer: HeartbeatWriter | undefined;
  let consumer: TickflowProcess | undefined;
  const drops: Array<() => Promise<void>> = [];

  afterAll(async () => {
    await consumer?.stop();
    await writer?.close();
    await stopJob(jobId, name);
    for (const drop of drops) await drop();
  });

  it('without the heartbeat writer the last windows stay open; with it every candle is written, equal to the embedded engine at end of input and to the TS consumer', async () => {
    const fresh = await freshSpec('tfbeat', { input: { idleTimeoutMs: IDLE_MS, outOfOrdernessMs: BOUND_MS }, candles: { intervalMs: INTERVAL_MS } });
    const { spec } = fresh;
    name = fresh.name;
    // ~5 minutes of event time, 8 tickers on 3 partitions, with duplicates and malformed lines.
    const lines = [...dirtyFeed({ seed: 12, count: 3_000, startMs: START, stepMs: 97, late: 0, largeFraction: 0.03, outOfOrdernessMs: BOUND_MS })];
    const file = join(mkdtempSync(join(tmpdir(), 'tickflow-beat-')), 'trades.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const expected = oracle(
      lines.map((l) => Buffer.from(l)),
      file,
      spec,
    );
    const tickers = [...new Set(expected.candles.map((c) => c.split('|')[0]!))].sort();
    expect(tickers.length).toBeGreaterThanOrEqual(6);
    const lastCandles = tickers.map(
      (t) =>
        expected.candles
          .filter((c) => c.startsWith(`${t}|`))
          .sort()
          .at(-1)!,
    );

    // How long the heartbeats must run for the last window to close: the writer starts each
    // partition from its newest event time, so the slowest partition decides.
    const newest = new Map<number, number>();
    let lastWindowEnd = 0;
    for (const l of lines) {
      const r = parseTradeText(l);
      if (r.ok !== true) continue;
      const p = kafkaPartition(r.trade.ticker, spec.input.partitions);
      newest.set(p, Math.max(newest.get(p) ?? 0, r.trade.tsMs));
      lastWindowEnd = Math.max(lastWindowEnd, (Math.floor(r.trade.tsMs / INTERVAL_MS) + 1) * INTERVAL_MS);
    }
    const needMs = Math.max(IDLE_MS, lastWindowEnd + BOUND_MS - Math.min(...newest.values()));

    const db = await migratedDatabase('tf_beat');
    drops.push(db.drop);
    // The records are on the topic before the job starts: with an idle timeout this short, a
    // partition whose first records reach its subtask a little late would otherwise be left out
    // as idle while the others' watermark closes windows without it.
    await produceLines(spec.input.topic, keyedByTicker(lines), { keyed: true });
    jobId = await deployForTest(spec, name, db.url);
    await pollUntil(180_000, async () => {
      const have = (await rows(db.url, ACTUAL_QUERIES.trades)).length;
      return have === expected.trades.length ? null : `${have} of ${expected.trades.length} trades, job ${await rest.jobState(jobId!)}`;
    });

    // Today's behaviour without the writer: every partition idle, the watermark stops at the
    // newest event time − bound, and each ticker's last window is never written. Observed for
    // as long as the writer will need below, plus the slack.
    await new Promise((r) => setTimeout(r, needMs + SLACK_MS));
    const before = await rows(db.url, ACTUAL_QUERIES.candles);
    const alertsBefore = (await rows(db.url, ACTUAL_QUERIES.alerts)).length;
    const wrong = before.filter((c) => !expected.candles.includes(c));
    expect(wrong.map((c) => [c, expected.candles.find((e) => e.startsWith(c.split('|').slice(0, 2).join('|')))])).toEqual([]);
    expect(lastCandles.filter((c) => before.includes(c))).toEqual([]);
    console.log(
      `without heartbeats: ${before.length} of ${expected.candles.length} candles and ${alertsBefore} of ${expected.alerts.length} alerts after ${((needMs + SLACK_MS) / 1000).toFixed(1)} s idle`,
    );

    writer = new HeartbeatWriter({
      settings: kafkaSettingsFrom({ flags: { brokers: kafkaBootstrap }, env: {} }),
      topic: spec.input.topic,
      idleTimeoutMs: spec.input.idleTimeoutMs,
      intervalMs: 500,
      maxRecordBytes: spec.input.maxRecordBytes,
    });
    await writer.open();
    const running = writer.run();
    const tookMs = await pollUntil(needMs + SLACK_MS, async () => {
      const [candles, alerts] = [await rows(db.url, ACTUAL_QUERIES.candles), await rows(db.url, ACTUAL_QUERIES.alerts)];
      if (candles.length === expected.candles.length && alerts.length === expected.alerts.length) return null;
      return `${candles.length} of ${expected.candles.length} candles, ${alerts.length} of ${expected.alerts.length} alerts`;
    });
    console.log(
      `with heartbeats: every candle and alert within ${(tookMs / 1000).toFixed(1)} s of the writer's start (needed ≥ ${(needMs / 1000).toFixed(1)} s of event time), ${writer.written} heartbeats`,
    );
    writer.stop();
    await running;

    const after = await Promise.all([rows(db.url, ACTUAL_QUERIES.candles), rows(db.url, ACTUAL_QUERIES.trades), rows(db.url, ACTUAL_QUERIES.alerts)]);
    expect(after[0]).toEqual(expected.candles);
    expect(after[1]).toEqual(expected.trades);
    expect(after[2]).toEqual(expected.alerts);
    // Heartbeats are neither trades nor dead letters.
    const codes = await rows(db.url, 'SELECT reason_code AS row FROM dead_letters');
    expect(codes.length).toBe(expected.deadLetters.length);
    expect(codes).not.toContain('heartbeat');
    expect(writer.written).toBeGreaterThan(0);
    expect(await rest.jobState(jobId)).toBe('RUNNING');

    // The TS consumer on the same topic, heartbeats included, never told where it ends.
    const dbTs = await migratedDatabase('tf_beat_ts');
    drops.push(dbTs.drop);
    const specFile = join(tmpdir(), `${name}.spec.json`);
    writeFileSync(specFile, JSON.stringify(spec));
    consumer = new TickflowProcess([
      'run',
      '--source',
      'kafka',
      '--spec',
      specFile,
      '--db',
      dbTs.url,
      '--group',
      uniqueName('beat_ts'),
      '--brokers',
      kafkaBootstrap,
      '--no-dashboard',
    ]);
    await pollUntil(120_000, async () => {
      if (!consumer!.running) throw new Error(`the TS consumer exited: ${consumer!.stderr}`);
      const [candles, alerts] = [await rows(dbTs.url, ACTUAL_QUERIES.candles), await rows(dbTs.url, ACTUAL_QUERIES.alerts)];
      if (candles.length === expected.candles.length && alerts.length === expected.alerts.length) return null;
      return `TS consumer: ${candles.length} of ${expected.candles.length} candles, ${alerts.length} of ${expected.alerts.length} alerts`;
    });
    const ts = await Promise.all([rows(dbTs.url, ACTUAL_QUERIES.candles), rows(dbTs.url, ACTUAL_QUERIES.trades), rows(dbTs.url, ACTUAL_QUERIES.alerts)]);
    expect(ts).toEqual(after);
    expect(await rows(dbTs.url, 'SELECT reason_code AS row FROM dead_letters')).toEqual(codes);
    const stopped = await consumer.stop();
    expect(stopped.code).toBe(0);
  });
});
