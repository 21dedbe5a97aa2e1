/**
 * Per-partition watermarks and idleness (docs/architecture.md#watermark-and-lateness), with an
 * injected wall clock: out-of-orderness 5 s, idle timeout 10 s, one-minute candles. Every
 * expected watermark below is worked out by hand from those numbers.
 */
import { describe, expect, it } from 'vitest';
import { Engine, type EngineOptions } from '../../src/engine/engine.ts';
import type { EngineState } from '../../src/engine/engine-state.ts';
import type { RawRecord } from '../../src/engine/records.ts';
import { specWith } from '../../src/spec/spec.ts';

const T0 = Date.UTC(2026, 10, 25, 9, 30, 0); // a minute boundary
const spec = specWith({
  input: { outOfOrdernessMs: 5_000, idleTimeoutMs: 10_000 },
  rules: { volumeSpike: { enabled: false } },
  candles: { intervalMs: 60_000 },
});

let n = 0;
function trade(partition: number, ticker: string, atMs: number, base = T0): RawRecord {
  n++;
  const value = JSON.stringify({ trade_id: `t${n}`, ticker, price: '10.00', volume: 1, trade_timestamp: new Date(base + atMs).toISOString() });
  return { value, source: 'test', partition, offset: n };
}

function heartbeat(partition: number, atMs: number): RawRecord {
  n++;
  return { value: JSON.stringify({ heartbeat: new Date(T0 + atMs).toISOString() }), source: 'test', partition, offset: n };
}

/** An engine on a clock the test moves; tick() as the pipeline's timer would. */
function engineAt(options: Pick<EngineOptions, 'checkpointable'> = {}) {
  const clock = { now: 0 };
  const engine = new Engine(spec, { now: () => clock.now, ...options });
  const at = (ms: number): Engine => {
    clock.now = ms;
    engine.tick();
    return engine;
  };
  return { engine, clock, at };
}

const wm = (e: Engine): number => e.watermarkMs - T0;

describe('per-partition watermarks', () => {
  it('the engine watermark is the smallest over the partitions: a slow partition keeps its trades on time', () => {
    const { engine: e } = engineAt();
    e.process(trade(1, 'BBB', 10_000));
    e.process(trade(0, 'AAA', 60_000));
    // p1 at 5 s, p0 at 55 s: p1 holds the engine at 5 s. (One watermark was at 55 s here.)
    expect(wm(e)).toBe(5_000);
    e.process(trade(0, 'AAA', 90_000)); // p0 → 85 s; p1 still holds it
    expect(wm(e)).toBe(5_000);
    e.process(trade(1, 'BBB', 20_000)); // 40 s behind p0's newest: on time on its own partition
    expect(wm(e)).toBe(15_000);
    e.process(trade(1, 'BBB', 61_000)); // p1 → 56 s: the smallest
    expect(wm(e)).toBe(56_000);
    e.process(trade(1, 'BBB', 56_000)); // at the watermark: on time
    e.process(trade(0, 'AAA', 85_500)); // p0 trades within its own bound: on time
    e.process(trade(1, 'BBB', 55_999)); // below the engine watermark: late
    expect(e.counters.late).toBe(1);
    e.process(trade(1, 'BBB', 100_000)); // p1 → 95 s, p0 (85 s) now the smallest
    expect(wm(e)).toBe(85_000);
  });

  it('two partitions fed one after the other: none of the second one is late', () => {
    // What a consumer catching up does without a time-aligned merge. One watermark made every
    // trade of p1 late; per partition, p1 holds the watermark back until it catches up.
    const { engine: e } = engineAt();
    e.process(trade(0, 'AAA', 0));
    e.process(trade(1, 'BBB', 0));
    for (let s = 1; s <= 120; s++) e.process(trade(0, 'AAA', s * 1_000));
    expect(wm(e)).toBe(-5_000);
    for (let s = 1; s <= 120; s++) e.process(trade(1, 'BBB', s * 1_000));
    expect(wm(e)).toBe(115_000);
    expect(e.counters.late).toBe(0);
    // Windows [0, 60 s) of both tickers closed once both partitions passed 60 s.
    expect(
      e
        .drain()
        .candles.map((c) => `${c.ticker}@${c.windowStartMs - T0}:${c.tradeCount}`)
        .sort(),
    ).toEqual(['AAA@0:60', 'BBB@0:60']);
  });

  it('a partition silent for the idle timeout stops holding the watermark back; its next record makes it active again', () => {
    const { engine: e, at } = engineAt();
    e.process(trade(0, 'AAA', 10_000));
    e.process(trade(1, 'BBB', 10_000));
    at(0);
    e.process(trade(0, 'AAA', 30_000));
    at(5_000);
    e.process(trade(0, 'AAA', 40_000));
    at(9_999);
    expect(wm(e)).toBe(5_000); // p1 (last record at 0) holds it for 10 s of wall clock
    at(10_000);
    expect(wm(e)).toBe(35_000); // p1 idle: p0 alone
    e.process(trade(0, 'AAA', 50_000));
    expect(wm(e)).toBe(45_000);
    // p1 is back: active again, its records below the engine watermark are late (as in Flink)...
    e.process(trade(1, 'BBB', 44_999));
    expect(e.counters.late).toBe(1);
    expect(wm(e)).toBe(45_000); // ...and the watermark does not go back
    // ...and it holds the watermark again: p0 moves on, p1 (44.999 − 5 s) is below 45 s, so it stays.
    e.process(trade(0, 'AAA', 70_000));
    expect(wm(e)).toBe(45_000);
    e.process(trade(1, 'BBB', 52_000));
    expect(wm(e)).toBe(47_000);
  });

  it('a partition no longer read here (moved to another member) stops holding the watermark back', () => {
    const { engine: e } = engineAt();
    e.process(trade(1, 'BBB', 10_000));
    e.process(trade(0, 'AAA', 60_000));
    expect(wm(e)).toBe(5_000);
    e.removePartitions([1]);
    expect(wm(e)).toBe(55_000);
  });

  it('a partition just assigned holds the watermark back until its first record', () => {
    const { engine: e, at } = engineAt();
    e.process(trade(0, 'AAA', 10_000));
    e.addPartition(1);
    e.process(trade(0, 'AAA', 60_000));
    expect(wm(e)).toBe(5_000);
    e.process(trade(1, 'BBB', 20_000)); // 40 s behind p0: on time
    expect(e.counters.late).toBe(0);
    expect(wm(e)).toBe(15_000);
    at(0);
    at(10_000); // both silent for 10 s: the wall clock takes over from 60 s − 5 s
    expect(wm(e)).toBe(55_000);
  });

  it('a heartbeat moves its partition like a trade and is counted, never stored nor dead-lettered', () => {
    const { engine: e } = engineAt();
    e.process(trade(1, 'BBB', 0));
    e.process(trade(0, 'AAA', 60_000));
    expect(wm(e)).toBe(-5_000);
    e.process(trade(0, 'AAA', 120_000));
    expect(wm(e)).toBe(-5_000);
    e.process(heartbeat(1, 100_000));
    expect(wm(e)).toBe(95_000);
    const out = e.drain();
    expect(e.counters).toMatchObject({ read: 4, accepted: 3, heartbeats: 1, rejected: 0, late: 0 });
    expect(out.trades).toHaveLength(3);
    expect(out.deadLetters).toHaveLength(0);
    // Only BBB's [0, 60 s) ends at or below 95 s.
    expect(out.candles.map((c) => `${c.ticker}@${c.windowStartMs - T0}`)).toEqual(['BBB@0']);
  });

  it('anything else with a "heartbeat" key is an ordinary record', () => {
    const { engine: e } = engineAt();
    e.process({ value: JSON.stringify({ heartbeat: new Date(T0).toISOString(), extra: 1 }), source: 'test', partition: 0, offset: 1 });
    e.process({ value: JSON.stringify({ heartbeat: T0 }), source: 'test', partition: 0, offset: 2 });
    expect(e.counters).toMatchObject({ heartbeats: 0, rejected: 2 });
    expect(e.drain().deadLetters.map((d) => d.code)).toEqual(['missing_field', 'missing_field']);
    expect(e.watermarkMs).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('when every partition is idle, event time follows the wall clock', () => {
  it('closes the last window within idle timeout + out-of-orderness + the rest of the window after the last trade', () => {
    const { engine: e, at } = engineAt();
    e.process(trade(0, 'AAA', 30_000));
    e.process(trade(1, 'BBB', 50_000));
    e.process(trade(0, 'AAA', 58_000));
    at(1_000);
    at(10_999);
    expect(wm(e)).toBe(45_000);
    // All idle at 11 s (last arrival 1 s + 10 s): from the newest event time (58 s) − 5 s, plus
    // the wall time since. The window [0, 60 s) ends at 60 s: 7 s later, at 18 s.
    at(11_000);
    expect(wm(e)).toBe(53_000);
    at(17_999);
    expect(e.drain().candles).toHaveLength(0);
    at(18_000);
    expect(wm(e)).toBe(60_000);
    expect(
      e
        .drain()
        .candles.map((c) => `${c.ticker}@${c.windowStartMs - T0}:${c.tradeCount}`)
        .sort(),
    ).toEqual(['AAA@0:2', 'BBB@0:1']);
    expect(e.counters.candles).toBe(2);
  });

  it('a replay far in the past is advanced from its own last event time, not to "now"', () => {
    const past = Date.UTC(2020, 0, 2, 15, 59, 0);
    const clock = { now: Date.UTC(2026, 10, 30, 12, 0, 0) };
    const e = new Engine(spec, { now: () => clock.now });
    e.process(trade(0, 'AAA', 30_000, past));
    e.tick();
    const start = clock.now;
    clock.now = start + 10_000;
    e.tick();
    expect(e.watermarkMs).toBe(past + 25_000);
    clock.now = start + 12_000;
    e.tick();
    expect(e.watermarkMs).toBe(past + 27_000);
    expect(e.drain().candles).toHaveLength(0);
    clock.now = start + 45_000; // 35 s idle: 25 s + 35 s = 60 s, the window's end
    e.tick();
    expect(e.watermarkMs).toBe(past + 60_000);
    expect(e.drain().candles).toHaveLength(1);
  });

  it('after the wall-clock advance, a record that continues the old event time is late and the watermark does not go back', () => {
    const { engine: e, at } = engineAt();
    e.process(trade(0, 'AAA', 10_000));
    at(0);
    at(30_000); // idle since 10 s: 5 s + 20 s
    expect(wm(e)).toBe(25_000);
    e.process(trade(0, 'AAA', 20_000));
    expect(e.counters.late).toBe(1);
    expect(wm(e)).toBe(25_000);
    e.process(trade(0, 'AAA', 31_000));
    expect(wm(e)).toBe(26_000);
  });

  it('an idle timeout of 0 turns idleness off: nothing moves without records', () => {
    const e = new Engine(specWith({ input: { outOfOrdernessMs: 5_000, idleTimeoutMs: 0 } }), { now: () => 1e12 });
    e.process(trade(0, 'AAA', 10_000));
    e.tick();
    expect(wm(e)).toBe(5_000);
  });
});

describe('a partition taken over from a checkpoint', () => {
  it('is judged against its own watermark, not against the event time this engine reached', () => {
    // Member B checkpointed p1 at 30 s and died; member A has read p0 to 120 s meanwhile.
    const { engine: b } = engineAt({ checkpointable: {} });
    b.process(trade(1, 'BBB', 10_000));
    b.process(trade(1, 'BBB', 30_000));
    b.drain();
    const state = JSON.parse(JSON.stringify(b.state())) as EngineState;
    const { engine: a } = engineAt({ checkpointable: {} });
    for (let s = 0; s <= 120; s += 10) a.process(trade(0, 'AAA', s * 1_000));
    expect(wm(a)).toBe(115_000);
    a.restore({ ...state, ...state.partitions?.[1] }, [], 1);
    expect(wm(a)).toBe(25_000); // p1's own: 30 s − 5 s
    // p1's backlog, within its bound: none late; p0 stays on time too within its own.
    a.process(trade(1, 'BBB', 26_000));
    a.process(trade(1, 'BBB', 40_000));
    a.process(trade(0, 'AAA', 116_000));
    expect(a.counters.late).toBe(0);
    // A p0 trade below what p0's windows were closed at stays late.
    a.process(trade(0, 'AAA', 114_999));
    expect(a.counters.late).toBe(1);
    for (let s = 41; s <= 130; s++) a.process(trade(1, 'BBB', s * 1_000));
    expect(wm(a)).toBe(115_000);
    a.finish();
    const candles = a
      .drain()
      .candles.map((c) => `${c.ticker}@${c.windowStartMs - T0}:${c.tradeCount}`)
      .sort();
    // BBB's first window: the 2 restored trades (10 s, 30 s), then 26 s, 40 s and 41..59 s.
    expect(candles).toContain('BBB@0:23');
    expect(candles).toContain('BBB@60000:60');
  });

  it('a trade exactly at its partition’s floor is released at once: a checkpoint then holds waiting only what lies above its watermark', () => {
    const spiky = specWith({ ...spec, rules: { volumeSpike: { enabled: true, factor: 2, lookback: 2 } } });
    const clock = { now: 0 };
    const a = new Engine(spiky, { now: () => clock.now, checkpointable: {} });
    for (let s = 0; s <= 120; s += 10) a.process(trade(1, 'BBB', s * 1_000));
    expect(wm(a)).toBe(115_000);
    // Restoring p0 lowers the engine's watermark to 25 s; p1 keeps a floor at 115 s.
    a.restore({ maxEventTimeMs: T0 + 30_000, watermarkMs: T0 + 25_000, tickers: {} }, [], 0);
    expect(wm(a)).toBe(25_000);
    a.process(trade(1, 'BBB', 115_000)); // at p1's floor: on time, and nothing of BBB can come before it
    a.process(trade(1, 'BBB', 121_000)); // above it: waits for the watermark
    expect(a.counters.late).toBe(0);
    const state = a.state();
    const row = state.partitions![1]!;
    expect(row.watermarkMs).toBe(T0 + 115_000);
    // Waiting are exactly the trades above the row's watermark (what a restore reads back): 120 s
    // and 121 s — not the one at 115 s, which no read-back would find.
    expect(state.tickers.BBB!.pending).toBe(2);
  });

  it('two partitions restored one after the other are each judged against their own checkpoint', () => {
    const { engine: a } = engineAt({ checkpointable: {} });
    for (let s = 0; s <= 120; s += 10) a.process(trade(1, 'BBB', s * 1_000));
    const row = (max: number): EngineState => ({ maxEventTimeMs: T0 + max, watermarkMs: T0 + 25_000, tickers: {} });
    a.restore(row(30_000), [], 0);
    a.restore(row(32_000), [], 2);
    expect(wm(a)).toBe(25_000);
    // A checkpoint of p1 now says where p1's windows were closed (115 s), not the engine's 25 s:
    // its owner after a hand-over must not read p1's released trades back as waiting.
    expect(a.state().partitions).toEqual({
      0: { maxEventTimeMs: T0 + 30_000, watermarkMs: T0 + 25_000 },
      1: { maxEventTimeMs: T0 + 120_000, watermarkMs: T0 + 115_000 },
      2: { maxEventTimeMs: T0 + 32_000, watermarkMs: T0 + 25_000 },
    });
    a.process(trade(0, 'AAA', 25_000));
    a.process(trade(2, 'CCC', 27_000));
    expect(a.counters.late).toBe(0);
    a.process(trade(2, 'CCC', 24_999)); // below its checkpoint's watermark: its windows were closed there
    a.process(trade(1, 'BBB', 114_999)); // below what p1's windows were closed at before the restores
    expect(a.counters.late).toBe(2);
  });
});
