/**
 * Engine checkpoints: a run that crashes after random commits and restarts from its last
 * checkpoint must store exactly what one uninterrupted run stores — trades, every alert
 * (spike baselines included) and every candle. The "database" here is the engine's own
 * committed output; the same logic against real Kafka and PostgreSQL is proved by
 * test/faults/kafka-consumer-kills.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { orderPending, type EngineState } from '../../src/engine/engine-state.ts';
import { Engine } from '../../src/engine/engine.ts';
import type { EngineOutput, RawRecord } from '../../src/engine/records.ts';
import { alertDetailValues } from '../../src/rules/alert.ts';
import { SeededRandom } from '../../src/simulate/random.ts';
import { specWith, type PipelineSpec } from '../../src/spec/spec.ts';
import { parseTradeText } from '../../src/trade/parse.ts';
import { checkpointFeedLines } from '../support/checkpoint-feed.ts';
import type { Trade } from '../../src/trade/trade.ts';

const T0 = Date.UTC(2026, 10, 25, 9, 30, 0);
const spec = specWith({
  input: { outOfOrdernessMs: 2_000 },
  // Every rule kind, with what each keeps in a checkpoint: spike baselines, price windows and
  // crossing flags, cooldown slices (prices move up to 5 % between trades, so moves are frequent).
  rules: [
    { name: 'large', kind: 'large_trade', threshold: 40_000, overrides: { BBB: 50_000 } },
    { name: 'whale', kind: 'notional', amount: 4_000_000, cooldownSeconds: 3 },
    { name: 'spike', kind: 'volume_spike', factor: 2, lookback: 4 },
    { name: 'jump', kind: 'price_move', percent: 3, windowSeconds: 5, tickers: ['AAA', 'CCC'] },
    { name: 'jump-cool', kind: 'price_move', percent: 2, windowSeconds: 3, cooldownSeconds: 10, severity: 'critical' },
  ],
  candles: { intervalMs: 5_000 },
  dedupe: { horizonMs: 20_000 },
});

/** The shared checkpoint feed on one partition: tickers AAA, BBB, CCC; ids t0, t1, … */
function feed(seed: number, count: number): RawRecord[] {
  const lines = checkpointFeedLines(seed, count, { start: T0, tickers: ['AAA', 'BBB', 'CCC'], id: (i) => `t${i}` });
  return lines.map((value, i) => ({ value, source: 'feed', partition: 0, offset: i }));
}

/** What the tables would hold: trades and alerts keep their first row, candles their last (upsert). */
class Tables {
  readonly trades = new Map<string, Trade>();
  readonly alerts = new Map<string, string>();
  readonly candles = new Map<string, string>();
  deadLetters = 0;

  commit(out: EngineOutput): void {
    for (const t of out.trades) if (!this.trades.has(t.tradeId)) this.trades.set(t.tradeId, t);
    for (const a of out.alerts)
      if (!this.alerts.has(a.alertId)) this.alerts.set(a.alertId, `${a.trade.volume}|${a.severity}|${JSON.stringify(alertDetailValues(a))}`);
    for (const c of out.candles)
      this.candles.set(`${c.ticker}|${c.windowStartMs}`, `${c.openE4}|${c.highE4}|${c.lowE4}|${c.closeE4}|${c.volume}|${c.vwapE4}|${c.tradeCount}`);
    this.deadLetters += out.deadLetters.length;
  }

  view() {
    return { trades: [...this.trades.keys()].sort(), alerts: [...this.alerts].sort(), candles: [...this.candles].sort(), deadLetters: this.deadLetters };
  }
}

function uninterrupted(records: RawRecord[], s: PipelineSpec): Tables {
  const e = new Engine(s, { now: () => 0 });
  for (const r of records) e.process(r);
  e.finish();
  const db = new Tables();
  db.commit(e.drain());
  return db;
}

/** What a restart reads back: the pending trades from the table, as a consumer does from stock_trades. */
function restoreFrom(db: Tables, state: EngineState, s: PipelineSpec): Trade[] {
  const after = state.maxEventTimeMs === null ? Number.NEGATIVE_INFINITY : state.maxEventTimeMs - s.input.outOfOrdernessMs;
  const waiting = new Set(
    Object.entries(state.tickers)
      .filter(([, t]) => t.pending > 0)
      .map(([k]) => k),
  );
  // A table has no row order: read them back newest first, the opposite of arrival.
  const pending = [...db.trades.values()].filter((t) => waiting.has(t.ticker) && t.tsMs > after).reverse();
  expect(pending.length).toBe(Object.values(state.tickers).reduce((n, t) => n + t.pending, 0));
  return orderPending(
    pending,
    Object.values(state.tickers).flatMap((t) => t.ties),
  );
}

/**
 * Lives of random length; each commits batches of random size (drain = one transaction,
 * checkpoint taken with it), then dies with some records processed but not committed.
 */
function crashing(records: RawRecord[], s: PipelineSpec, seed: number): { db: Tables; lives: number; ties: number } {
  const rng = new SeededRandom(seed);
  const db = new Tables();
  let checkpoint: { state: EngineState; next: number } | null = null;
  let lives = 0;
  let ties = 0;
  for (;;) {
    lives++;
    const e = new Engine(s, { now: () => 0, checkpointable: {} });
    let pos = 0;
    let checkUntil = Number.NEGATIVE_INFINITY;
    if (checkpoint !== null) {
      e.restore(checkpoint.state, restoreFrom(db, checkpoint.state, s));
      pos = checkpoint.next;
      // Stored ids count as seen until the uninterrupted engine would have forgotten them.
      checkUntil = e.watermarkMs + 2 * s.dedupe.horizonMs;
    }
    const lifeEnd = Math.min(records.length, pos + 1 + rng.int(600));
    while (pos < lifeEnd) {
      const batch = records.slice(pos, Math.min(lifeEnd, pos + 1 + rng.int(80)));
      if (e.watermarkMs < checkUntil) {
        e.rememberTradeIds(
          batch.flatMap((r) => {
            const p = parseTradeText(r.value as string);
            return p.ok === true && db.trades.has(p.trade.tradeId) ? [p.trade.tradeId] : [];
          }),
        );
      }
      for (const r of batch) e.process(r);
      pos += batch.length;
      if (pos === records.length) e.finish();
      db.commit(e.drain());
      if (pos === records.length) return { db, lives, ties };
      const state = e.state();
      ties += Object.values(state.tickers).reduce((n, t) => n + t.ties.length, 0);
      // A JSON round trip: what a checkpoint row holds.
      checkpoint = { state: JSON.parse(JSON.stringify(state)) as EngineState, next: pos };
    }
    // Dies mid-batch: these records were processed, never committed.
    for (const r of records.slice(pos, pos + rng.int(50))) e.process(r);
  }
}

describe('engine checkpoints', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`a run restarted from its checkpoints after random crashes stores what an uninterrupted run stores (seed ${seed})`, () => {
      const records = feed(seed, 4_000);
      const expected = uninterrupted(records, spec).view();
      const { db, lives, ties } = crashing(records, spec, seed * 7919);
      expect(lives).toBeGreaterThan(3);
      // The feed must exercise what the checkpoint keeps: spikes, open windows, tied event times.
      expect(expected.alerts.filter(([id]) => id.startsWith('spike:')).length).toBeGreaterThan(20);
      expect(ties).toBeGreaterThan(0);
      expect(db.view()).toEqual(expected);
    });
  }

  // Without spike rules nothing waits for the watermark, so only the stored-id check keeps a
  // replay of a trade committed before the crash out of a candle it is already in.
  for (const seed of [5, 6, 7, 8]) {
    it(`the same with the spike rule off: candles stay exact through the stored-id check (seed ${seed})`, () => {
      const noSpike = specWith({ ...spec, rules: spec.rules.filter((r) => r.kind !== 'volume_spike') });
      const records = feed(seed, 4_000);
      const expected = uninterrupted(records, noSpike).view();
      const { db, lives } = crashing(records, noSpike, seed * 7919);
      expect(lives).toBeGreaterThan(3);
      expect(db.view()).toEqual(expected);
    });
  }

  it('without the stored-id check after a restore, a replayed trade would be counted twice', () => {
    // Guards the test above: the check is what it relies on, not luck.
    const records = feed(9, 2_000);
    const e1 = new Engine(spec, { now: () => 0, checkpointable: {} });
    const db = new Tables();
    for (const r of records.slice(0, 1_000)) e1.process(r);
    db.commit(e1.drain());
    const state = JSON.parse(JSON.stringify(e1.state())) as EngineState;
    const e2 = new Engine(spec, { now: () => 0, checkpointable: {} });
    e2.restore(state, restoreFrom(db, state, spec));
    const replay = records.slice(900, 1_000);
    for (const r of replay) e2.process(r);
    const out = e2.drain();
    expect(out.trades.length).toBeGreaterThan(0);
    const e3 = new Engine(spec, { now: () => 0, checkpointable: {} });
    e3.restore(state, restoreFrom(db, state, spec));
    e3.rememberTradeIds([...db.trades.keys()]);
    for (const r of replay) e3.process(r);
    expect(e3.drain().trades).toEqual([]);
  });

  it('state() keeps open windows, baselines and tie order; forget() drops a ticker from all of them', () => {
    const e = new Engine(spec, { now: () => 0, checkpointable: {} });
    for (const r of feed(11, 300)) e.process(r);
    const before = e.state();
    expect(Object.keys(before.tickers).sort()).toEqual(['AAA', 'BBB', 'CCC']);
    expect(before.tickers.AAA!.rules?.spike?.op).toHaveLength(4); // the spike rule's lookback
    expect(before.tickers.AAA!.candles.length).toBeGreaterThan(0);
    e.forget(new Set(['AAA']));
    const after = e.state();
    expect(after.tickers.AAA).toBeUndefined();
    expect(after.tickers.BBB).toEqual(before.tickers.BBB);
    expect([...e.formingCandles()].some((c) => c.ticker === 'AAA')).toBe(false);
  });
});

describe('a checkpoint taken under other rules', () => {
  it('restores the state of the rules whose definition is unchanged; a redefined rule starts afresh', () => {
    const records = feed(21, 600);
    const e1 = new Engine(spec, { now: () => 0, checkpointable: {} });
    for (const r of records) e1.process(r);
    e1.drain();
    const state = JSON.parse(JSON.stringify(e1.state())) as EngineState;
    // jump redefined (a wider window), the others as before, whale's severity changed only.
    const changed = specWith({
      ...spec,
      rules: spec.rules.map((r) => (r.name === 'jump' ? { ...r, windowSeconds: 6 } : r.name === 'whale' ? { ...r, severity: 'critical' as const } : r)),
    });
    const e2 = new Engine(changed, { now: () => 0, checkpointable: {} });
    expect(e2.ruleContinuity(state)).toEqual({ kept: ['large', 'whale', 'spike', 'jump-cool'], fresh: ['jump'] });
    e2.restore(state, []);
    const after = e2.state();
    expect(after.tickers.AAA!.rules?.spike).toEqual(state.tickers.AAA!.rules?.spike);
    expect(after.tickers.AAA!.rules?.['jump-cool']).toEqual(state.tickers.AAA!.rules?.['jump-cool']);
    expect(state.tickers.AAA!.rules?.jump).toBeDefined();
    expect(after.tickers.AAA!.rules?.jump).toBeUndefined();
  });
});
