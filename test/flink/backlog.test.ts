import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirtyFeed } from '../../src/simulate/dirty-feed.ts';
import { parseTradeText } from '../../src/trade/parse.ts';
import { oracle } from '../support/oracle.ts';
import { countRows, readTables } from '../support/postgres.ts';
import { bySize } from '../support/soak.ts';
import { produceLines } from '../support/stack.ts';
import { waitFor } from '../support/wait.ts';
import { expectNoJobsLeft, stopJob, deployForTest, freshSpec, kafkaPartition, keyedByTicker, migratedDatabase } from './flink-support.ts';

/**
 * The job starts on a topic that already holds a backlog, as it does after a restore from a
 * checkpoint or when it is deployed onto an existing topic. This is where the "candles across a
 * TaskManager crash" defect came from (docs/flink.md, "Why one partition per source subtask"):
 * with parallelism 2 on 3 partitions one source subtask read two partitions, its watermark
 * followed whichever partition the Kafka consumer handed over first, and the other partition's
 * trades were judged late — all of that partition's tickers lost their candles. Deployed as
 * tickflow deploys (one partition per source subtask), closed candles must equal the oracle's.
 */
const START = Date.UTC(2026, 10, 25, 16, 0, 0);
let db: { url: string; drop: () => Promise<void> };
let jobId: string | undefined;
let fresh: Awaited<ReturnType<typeof freshSpec>>;
let lines: string[];
let sentinels: Set<string>;

beforeAll(async () => {
  fresh = await freshSpec('tfback');
  db = await migratedDatabase('tf_back');
  lines = [...dirtyFeed({ seed: 11, count: bySize(4_000, 30_000), startMs: START, stepMs: 40, late: 0, largeFraction: 0.02 })];
  const lastTs = Math.max(
    ...lines.map((l) => {
      const r = parseTradeText(l);
      return r.ok === true ? r.trade.tsMs : 0;
    }),
  );
  const byPartition = new Map<number, string>();
  for (let i = 0; byPartition.size < fresh.spec.input.partitions; i++) byPartition.set(kafkaPartition(`ZZ${i}`, fresh.spec.input.partitions), `ZZ${i}`);
  sentinels = new Set(byPartition.values());
  for (const [i, t] of [...sentinels].entries()) {
    lines.push(
      JSON.stringify({ trade_id: `sentinel-${t}`, ticker: t, price: '1', volume: 1, trade_timestamp: new Date(lastTs + 3_600_000 + i).toISOString() }),
    );
  }
  await produceLines(fresh.spec.input.topic, keyedByTicker(lines), { keyed: true });
});

afterAll(async () => {
  await stopJob(jobId, fresh?.name);
  await db?.drop();
  await expectNoJobsLeft();
});

describe('a job started on a backlog', () => {
  it(
    'stores every trade and the same closed candles as the oracle',
    async () => {
      const t0 = Date.now();
      jobId = await deployForTest(fresh.spec, fresh.name, db.url, fresh.spec.input.partitions);
      const expected = oracle(
        lines.map((l) => Buffer.from(l)),
        'x',
        fresh.spec,
      );
      const closed = expected.candles.filter((c) => !sentinels.has(c.split('|')[0]!));
      let seen = '';
      await waitFor(
        async () => {
          const [trades, candles] = [await countRows(db.url, 'stock_trades'), await countRows(db.url, 'trade_candles')];
          seen = `stock_trades ${trades}/${expected.trades.length}, candles ${candles}/${closed.length}`;
          return trades === expected.trades.length && candles >= closed.length;
        },
        { what: 'every trade and closed candle stored', timeoutMs: bySize(300_000, 1_200_000), everyMs: 1_000, context: () => seen },
      );
      process.stderr.write(`[backlog] ${expected.trades.length} trades and ${closed.length} candles in ${Math.round((Date.now() - t0) / 1000)} s\n`);
      const actual = await readTables(db.url);
      expect(actual.trades).toEqual(expected.trades);
      const wrong = actual.candles.filter((c) => !sentinels.has(c.split('|')[0]!) && !closed.includes(c));
      expect(wrong, `candles that differ from the oracle (of ${closed.length})`).toEqual([]);
      expect(actual.candles.filter((c) => !sentinels.has(c.split('|')[0]!))).toEqual(closed);
    },
    bySize(600_000, 1_800_000),
  );
});
