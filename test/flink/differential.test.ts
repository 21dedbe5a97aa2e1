import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Consumer } from '@platformatic/kafka';
import { DLQ_HEADERS } from '../../src/kafka/dead-letter-record.ts';
import { dirtyFeed } from '../../src/simulate/dirty-feed.ts';
import type { PipelineSpec, PipelineSpecInput } from '../../src/spec/spec.ts';
import { parseTradeText } from '../../src/trade/parse.ts';
import { tickflow } from '../support/cli.ts';
import { oracle } from '../support/oracle.ts';
import { countRows, readTables } from '../support/postgres.ts';
import { produceLines, uniqueName } from '../support/stack.ts';
import { waitFor } from '../support/wait.ts';
import { deployForTest, expectNoJobsLeft, freshSpec, kafkaBootstrap, kafkaPartition, keyedByTicker, migratedDatabase, rest, stopJob } from './flink-support.ts';

/**
 * One generated file through both engines, for several specs: `tickflow run --source file:`
 * (embedded) into database A, and Kafka → Flink into database B and Flink's two output topics.
 * Every column both engines write must be equal — all but the `detected_at`/`received_at`
 * clocks and the dead letters' source position (a file line vs a Kafka offset) — and the
 * alerts and dead-letter topics must carry exactly the rows of database A.
 *
 * A Kafka stream has no end, so Flink closes a window only when the watermark passes it. The
 * file therefore ends with one "sentinel" trade per partition, an hour later, which moves every
 * partition's watermark past the real data; both engines store it, and its own (never closed in
 * Flink) window is left out of the candle comparison.
 */
const START = Date.UTC(2026, 10, 25, 14, 0, 0);

const variants: Array<[string, PipelineSpecInput]> = [
  ['the default spec', {}],
  [
    // factor 2.5: a fractional factor in the integer comparison; lookback 32: baseline means
    // ×10^4 = Σ·10000/32 end in .5 for every odd Σ, so half-up rounding ties are everywhere.
    'spike factor 2.5, lookback 32, 5-minute candles, exactly-once alerts',
    {
      rules: { volumeSpike: { factor: 2.5, lookback: 32 } },
      candles: { intervalMs: 300_000 },
      delivery: { alerts: 'exactly-once', checkpointIntervalMs: 2_000 },
    },
  ],
  [
    'spike rule off, threshold 500,000, 10-second candles',
    { rules: { volumeSpike: { enabled: false }, largeTrade: { threshold: 500_000 } }, candles: { intervalMs: 10_000 } },
  ],
  [
    // Every kind once, between them: a per-ticker override, ticker filters, a cooldown on a kind
    // that sees trades as read and on one that needs event-time order, a fractional amount,
    // severities. (Four rules: the planner's time grows with every OVER chain.)
    'a rules list with every kind, overrides, ticker filters, cooldowns and severities',
    {
      rules: [
        { name: 'block', kind: 'large_trade', threshold: 900_000, overrides: { AAPL: 2_000_000 }, severity: 'critical' },
        { name: 'whale', kind: 'notional', amount: 200_000_000.5, cooldownSeconds: 20, tickers: ['NVDA', 'MSFT', 'TSLA', 'AAPL'] },
        { name: 'spike', kind: 'volume_spike', factor: 3, lookback: 20, tickers: ['AAPL', 'NVDA', 'TSLA'], severity: 'info' },
        { name: 'jump', kind: 'price_move', percent: 0.05, windowSeconds: 10, cooldownSeconds: 60 },
      ],
    },
  ],
];

const ISO = (col: string): string => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
/** Every column both engines write, as comparable text. */
const QUERIES = {
  trades: `SELECT concat_ws('|', trade_id, ticker, price::text, volume, ${ISO('trade_timestamp')}) AS row FROM stock_trades`,
  alerts: `SELECT concat_ws('|', alert_id, kind, rule, severity, trade_id, ticker, price::text, volume, ${ISO('trade_timestamp')},
             coalesce(threshold::text, ''), coalesce(amount::text, ''), coalesce(notional::text, ''), coalesce(baseline_mean::text, ''),
             coalesce((factor::float8)::text, ''), coalesce(lookback::text, ''), coalesce(reference_price::text, ''),
             coalesce(change_percent::text, ''), coalesce(window_seconds::text, ''), message) AS row FROM trade_alerts`,
  candles: `SELECT concat_ws('|', ticker, ${ISO('window_start')}, ${ISO('window_end')}, open::text, high::text, low::text, close::text,
              volume, vwap::text, trade_count) AS row FROM trade_candles`,
  deadLetters: `SELECT concat_ws('|', reason_code, reason, encode(raw, 'hex')) AS row FROM dead_letters`,
} as const;
/** Committed records of a topic: waits until `count` arrived, then 2 s more for any extra. */
async function readTopic(topic: string, count: number): Promise<Array<{ value: Buffer; headers: Record<string, string> }>> {
  // isolationLevel 1 = READ_COMMITTED: exactly-once alerts count only once their transaction commits.
  const consumer = new Consumer({
    clientId: 'tickflow-diff-reader',
    bootstrapBrokers: [kafkaBootstrap],
    groupId: uniqueName('diff_reader'),
    autocommit: false,
    isolationLevel: 1,
  });
  const out: Array<{ value: Buffer; headers: Record<string, string> }> = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 200 });
    let enoughAt: number | null = null;
    const deadline = Date.now() + 120_000;
    const done = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (out.length >= count && enoughAt === null) enoughAt = Date.now();
        if ((enoughAt !== null && Date.now() - enoughAt > 2_000) || Date.now() > deadline) {
          clearInterval(timer);
          resolve();
        }
      }, 100);
    });
    stream.on('data', (m) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of m.headers) headers[k.toString()] = v.toString();
      out.push({ value: m.value, headers });
    });
    await done;
    await stream.close();
    return out;
  } finally {
    await consumer.close(true);
  }
}

/** An alert from the topic in the database query's text form (factor as float8 prints it). */
function topicAlertRow(value: Buffer): string {
  const a = JSON.parse(value.toString('utf8')) as Record<string, string | number | undefined>;
  const opt = (v: string | number | undefined): string => (v === undefined ? '' : String(v));
  return [
    a.alert_id,
    a.kind,
    a.rule,
    a.severity,
    a.trade_id,
    a.ticker,
    a.price,
    a.volume,
    a.trade_timestamp,
    opt(a.threshold),
    opt(a.amount),
    opt(a.notional),
    opt(a.baseline_mean),
    opt(a.factor),
    opt(a.lookback),
    opt(a.reference_price),
    opt(a.change_percent),
    opt(a.window_seconds),
    a.message,
  ].join('|');
}

function inputFor(spec: PipelineSpec): { lines: string[]; sentinelTickers: Set<string> } {
  // Bounded disorder only (late: 0): the differential contract covers input within the bound.
  const lines = [
    ...dirtyFeed({ seed: 5, count: 3_000, startMs: START, stepMs: 97, late: 0, largeFraction: 0.03, outOfOrdernessMs: spec.input.outOfOrdernessMs }),
  ];
  const lastTs = Math.max(
    ...lines.map((l) => {
      const r = parseTradeText(l);
      return r.ok === true ? r.trade.tsMs : 0;
    }),
  );
  const partitions = new Map<number, string>();
  for (let i = 0; partitions.size < spec.input.partitions; i++) {
    const t = `ZZ${i}`;
    const p = kafkaPartition(t, spec.input.partitions);
    if (!partitions.has(p)) partitions.set(p, t);
  }
  const sentinelTickers = new Set(partitions.values());
  for (const [i, t] of [...sentinelTickers].entries()) {
    lines.push(
      JSON.stringify({ trade_id: `sentinel-${t}`, ticker: t, price: '1.0000', volume: 1, trade_timestamp: new Date(lastTs + 3_600_000 + i).toISOString() }),
    );
  }
  return { lines, sentinelTickers };
}

afterAll(async () => {
  await expectNoJobsLeft();
});

describe.each(variants)('differential: embedded engine vs Flink, %s', (_, overrides) => {
  let jobId: string | undefined;
  let name: string | undefined;
  const dbs: Array<{ drop: () => Promise<void> }> = [];

  afterAll(async () => {
    await stopJob(jobId, name);
    for (const db of dbs) await db.drop();
  });

  it('writes identical rows in every table and on both topics', async () => {
    const fresh = await freshSpec('tfdiff', overrides);
    const spec = fresh.spec;
    name = fresh.name;
    const { lines, sentinelTickers } = inputFor(spec);
    const file = join(mkdtempSync(join(tmpdir(), 'tickflow-flink-diff-')), 'trades.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const [dbA, dbB] = await Promise.all([migratedDatabase('tf_diff_a'), migratedDatabase('tf_diff_b')]);
    dbs.push(dbA, dbB);

    // The input exercises what this spec can show: dedupe, dead letters, both rules, candles, the alias.
    const expected = oracle(
      lines.map((l) => Buffer.from(l)),
      file,
      spec,
    );
    expect(expected.duplicates).toBeGreaterThan(20);
    expect(expected.deadLetters.length).toBeGreaterThan(20);
    for (const rule of spec.rules)
      expect(
        expected.alerts.some((a) => a.startsWith(`${rule.name}:`)),
        `alerts of rule ${rule.name}`,
      ).toBe(true);
    expect(expected.candles.length).toBeGreaterThan(10);
    expect(lines.some((l) => l.includes('"timestamp"'))).toBe(true);
    // Flink orders an OVER window's equal timestamps by arrival at the operator, which the dedupe
    // shuffle can change (docs/flink.md); this input has no such ties, so the spike sets must match.
    const seen = new Set<string>();
    const ties = expected.trades.filter((row) => {
      const [, ticker, , , ts] = row.split('|');
      const k = `${ticker}|${ts}`;
      const dup = seen.has(k);
      seen.add(k);
      return dup;
    });
    expect(ties).toEqual([]);

    const specFile = join(tmpdir(), `${name}.spec.json`);
    writeFileSync(specFile, JSON.stringify(spec));
    const embedded = await tickflow(['run', '--source', `file:${file}`, '--spec', specFile, '--db', dbA.url, '--json', '--no-dashboard'], {
      timeoutMs: 180_000,
    });
    expect(embedded.stderr).toBe('');
    expect(embedded.code).toBe(0);
    const a = await readTables(dbA.url, QUERIES);
    expect(a.alerts.length).toBe(expected.alerts.length);

    jobId = await deployForTest(spec, name, dbB.url, 3);
    await produceLines(spec.input.topic, keyedByTicker(lines), { keyed: true });

    const closedCandles = a.candles.filter((c) => !sentinelTickers.has(c.split('|')[0]!));
    let progress = '';
    // Every 15 s, where event time stands in each operator, the job's checkpoints and its last
    // failure: what a timeout needs to tell a stalled watermark from a slow or restarting job.
    let diagnosis = '';
    let diagnosedAt = 0;
    await waitFor(
      async () => {
        if (Date.now() - diagnosedAt > 15_000) {
          diagnosedAt = Date.now();
          const [marks, status] = await Promise.all([rest.vertexWatermarks(jobId!), rest.status(jobId!)]);
          const at = (ms: number | null): string => (ms === null ? 'none' : new Date(ms).toISOString());
          diagnosis = [
            `checkpoints ${status.checkpoints.completed} completed, ${status.checkpoints.failed} failed; last failure: ${status.lastException ?? 'none'}`,
            ...marks.map((m) => `  watermark ${at(m.watermarkMs)} at ${m.name.slice(0, 120)}`),
          ].join('\n');
        }
        const have = {
          trades: await countRows(dbB.url, 'stock_trades'),
          alerts: await countRows(dbB.url, 'trade_alerts'),
          candles: await countRows(dbB.url, 'trade_candles'),
          deadLetters: await countRows(dbB.url, 'dead_letters'),
        };
        const want = { trades: a.trades.length, alerts: a.alerts.length, candles: closedCandles.length, deadLetters: a.deadLetters.length };
        progress = `have ${JSON.stringify(have)}, want ${JSON.stringify(want)}, job ${await rest.jobState(jobId!)}\n${diagnosis}`;
        return JSON.stringify(have) === JSON.stringify(want);
      },
      { what: 'Flink to write every expected row', timeoutMs: 180_000, everyMs: 1_000, context: () => progress },
    );
    const b = await readTables(dbB.url, QUERIES);
    expect(b.trades).toEqual(a.trades);
    expect(b.alerts).toEqual(a.alerts);
    expect(b.candles).toEqual(closedCandles);
    expect(b.deadLetters).toEqual(a.deadLetters);

    const alertRecords = await readTopic(spec.topics.alerts, a.alerts.length);
    expect(alertRecords.map((r) => topicAlertRow(r.value)).sort()).toEqual(a.alerts);
    const dlqRecords = await readTopic(spec.topics.deadLetters, a.deadLetters.length);
    const dlqRows = dlqRecords.map((r) => [r.headers[DLQ_HEADERS.code], r.headers[DLQ_HEADERS.reason], r.value.toString('hex')].join('|'));
    expect(dlqRows.sort()).toEqual(a.deadLetters);

    expect(await rest.jobState(jobId)).toBe('RUNNING');
  });
});
