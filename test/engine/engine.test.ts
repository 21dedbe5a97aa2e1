import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { type Alert, BufferRangeRecord, type Candle, type RawRecord } from '../../src/engine/records.ts';
import { dirtyFeed } from '../../src/simulate/dirty-feed.ts';
import { specWith } from '../../src/spec/spec.ts';
import { formatPriceE4 } from '../../src/trade/trade.ts';
import { oracle } from '../support/oracle.ts';

const T0 = Date.UTC(2026, 10, 25, 9, 30, 0); // a minute boundary
let offset = 0;
function rec(trade_id: string, ticker: string, price: string, volume: number, atMs: number) {
  return {
    value: JSON.stringify({ trade_id, ticker, price, volume, trade_timestamp: new Date(T0 + atMs).toISOString() }),
    source: 'test',
    partition: 0,
    offset: offset++,
  };
}

function run(engine: Engine, records: readonly RawRecord[], finish = true) {
  for (const r of records) engine.process(r);
  if (finish) engine.finish();
  return engine.drain();
}

const candleView = (c: Candle) => ({
  ticker: c.ticker,
  start: c.windowStartMs - T0,
  o: formatPriceE4(c.openE4),
  h: formatPriceE4(c.highE4),
  l: formatPriceE4(c.lowE4),
  c: formatPriceE4(c.closeE4),
  v: c.volume,
  vwap: formatPriceE4(c.vwapE4),
  n: c.tradeCount,
});
const alertView = (a: Alert) => `${a.alertId}${a.kind === 'volume_spike' ? ` mean=${formatPriceE4(a.baselineMeanE4)}` : ''}`;

describe('candles', () => {
  it('computes OHLC, volume, count and VWAP (half-up to 4 decimals) per ticker and minute', () => {
    const e = new Engine(specWith({ rules: { volumeSpike: { enabled: false } } }));
    const out = run(e, [
      rec('a1', 'AAPL', '10.00', 100, 1_000),
      rec('a2', 'AAPL', '12.00', 300, 2_000),
      rec('a3', 'AAPL', '9.50', 100, 3_000),
      rec('m1', 'MSFT', '1.0001', 3, 5_000),
      rec('m2', 'MSFT', '1.0002', 3, 6_000),
      rec('m3', 'MSFT', '1.0002', 1, 7_000),
      rec('a4', 'AAPL', '11.00', 200, 59_999),
      rec('a5', 'AAPL', '20.00', 1, 60_000), // next window
    ]);
    // AAPL: (10*100 + 12*300 + 9.5*100 + 11*200) / 700 = 7750/700 = 11.071428… → 11.0714
    // MSFT: (1.0001*3 + 1.0002*4) / 7 = 7.0011/7 = 1.000157… → 1.0002 (half-up)
    expect(out.candles.map(candleView)).toEqual([
      { ticker: 'AAPL', start: 0, o: '10.0000', h: '12.0000', l: '9.5000', c: '11.0000', v: 700, vwap: '11.0714', n: 4 },
      { ticker: 'MSFT', start: 0, o: '1.0001', h: '1.0002', l: '1.0001', c: '1.0002', v: 7, vwap: '1.0002', n: 3 },
      { ticker: 'AAPL', start: 60_000, o: '20.0000', h: '20.0000', l: '20.0000', c: '20.0000', v: 1, vwap: '20.0000', n: 1 },
    ]);
  });

  it('rounds VWAP half-up exactly at .5 of the last digit', () => {
    const e = new Engine(specWith({}));
    // (0.0001*1 + 0.0002*1)/2 = 0.00015 → 0.0002
    const out = run(e, [rec('x1', 'X', '0.0001', 1, 0), rec('x2', 'X', '0.0002', 1, 1)]);
    expect(out.candles.map((c) => formatPriceE4(c.vwapE4))).toEqual(['0.0002']);
  });

  it('stays exact when Σ price·volume exceeds 2^53', () => {
    const e = new Engine(specWith({ rules: { largeTrade: { enabled: false }, volumeSpike: { enabled: false } } }));
    const out = run(e, [
      rec('b1', 'BIG', '999999.9999', 2_147_483_647, 0),
      rec('b2', 'BIG', '999999.9998', 2_147_483_647, 1),
      rec('b3', 'BIG', '0.0001', 1, 2),
    ]);
    // Σ(p·v)·10^4 = (9999999999 + 9999999998)·2147483647 + 1; ÷ (2·2147483647 + 1), half-up
    const num = (9_999_999_999n + 9_999_999_998n) * 2_147_483_647n + 1n;
    const den = 2n * 2_147_483_647n + 1n;
    const q = num / den;
    const expected = (num - q * den) * 2n >= den ? q + 1n : q;
    expect(out.candles[0]!.vwapE4).toBe(Number(expected));
    expect(out.candles[0]!.volume).toBe(4_294_967_295);
  });

  it('emits a window only once the watermark passes its end, and the rest at end of input', () => {
    const e = new Engine(specWith({})); // out-of-orderness 5 s
    const first = run(e, [rec('c1', 'AAPL', '1', 1, 10_000), rec('c2', 'AAPL', '1', 1, 64_999)], false);
    expect(first.candles).toEqual([]); // watermark 59.999 s < 60 s
    const second = run(e, [rec('c3', 'AAPL', '1', 1, 65_000)], false);
    expect(second.candles.map((c) => c.windowStartMs - T0)).toEqual([0]); // watermark reached 60 s
    e.finish();
    expect(e.drain().candles.map((c) => [c.windowStartMs - T0, c.tradeCount])).toEqual([[60_000, 2]]);
  });

  it('uses arrival order for open and close, event time for the window', () => {
    const e = new Engine(specWith({}));
    const out = run(e, [rec('o1', 'Q', '5', 1, 3_000), rec('o2', 'Q', '7', 1, 1_000), rec('o3', 'Q', '6', 1, 2_000)]);
    expect(out.candles.map(candleView)[0]).toMatchObject({ o: '5.0000', c: '6.0000', h: '7.0000', l: '5.0000', n: 3 });
  });
});

describe('lateness', () => {
  it('stores and counts a late trade but leaves it out of candles', () => {
    const e = new Engine(specWith({}));
    const out = run(e, [
      rec('l1', 'AAPL', '10', 100, 70_000), // watermark → 65 s: window [0,60) closed
      rec('l2', 'AAPL', '99', 5, 30_000), // late (30 s < 65 s)
      rec('l3', 'AAPL', '11', 100, 66_000), // on time (66 s ≥ 65 s)
      rec('l4', 'AAPL', '12', 100, 64_000), // late by 1 s
    ]);
    expect(e.counters.late).toBe(2);
    expect(out.trades.map((t) => t.tradeId)).toEqual(['l1', 'l2', 'l3', 'l4']);
    expect(out.candles.map(candleView)).toEqual([
      { ticker: 'AAPL', start: 60_000, o: '10.0000', h: '11.0000', l: '10.0000', c: '11.0000', v: 200, vwap: '10.5000', n: 2 },
    ]);
  });

  it('still raises a large-trade alert for a late trade (that rule has no window)', () => {
    const e = new Engine(specWith({}));
    const out = run(e, [rec('x1', 'A', '1', 10, 100_000), rec('x2', 'A', '1', 2_000_000, 0)]);
    expect(e.counters.late).toBe(1);
    expect(out.alerts.map(alertView)).toEqual(['large:x2']);
  });
});

describe('duplicates', () => {
  it('keeps the first record of a trade_id; replays add nothing', () => {
    const e = new Engine(specWith({}));
    const out = run(e, [
      rec('d1', 'AAPL', '10', 1_500_000, 0),
      rec('d1', 'AAPL', '10', 1_500_000, 0), // exact replay
      rec('d1', 'AAPL', '50', 7, 1_000), // same id, different body: first wins
      rec('d2', 'AAPL', '20', 100, 2_000),
    ]);
    expect(e.counters.duplicates).toBe(2);
    expect(out.trades.map((t) => t.tradeId)).toEqual(['d1', 'd2']);
    expect(out.alerts.map(alertView)).toEqual(['large:d1']);
    expect(out.candles.map(candleView)).toEqual([
      { ticker: 'AAPL', start: 0, o: '10.0000', h: '20.0000', l: '10.0000', c: '20.0000', v: 1_500_100, vwap: '10.0007', n: 2 },
    ]);
  });
});

describe('large-trade alerts', () => {
  it('fires strictly above the threshold', () => {
    const e = new Engine(specWith({ rules: { largeTrade: { threshold: 1_000_000 }, volumeSpike: { enabled: false } } }));
    const out = run(e, [rec('at', 'A', '1', 1_000_000, 0), rec('above', 'A', '1', 1_000_001, 1)]);
    expect(out.alerts.map(alertView)).toEqual(['large:above']);
    expect(out.alerts[0]).toMatchObject({ kind: 'large_trade', threshold: 1_000_000, message: 'Large trade detected for A' });
  });
});

describe('volume-spike alerts', () => {
  const spec = specWith({ rules: { largeTrade: { enabled: false }, volumeSpike: { factor: 3, lookback: 3 } } });

  it('needs `lookback` earlier trades and compares with the mean of exactly those', () => {
    const e = new Engine(spec);
    const out = run(e, [
      rec('s1', 'A', '1', 100, 0),
      rec('s2', 'A', '1', 1_000, 1), // only 1 earlier trade: never a spike
      rec('s3', 'A', '1', 200, 2),
      rec('s4', 'A', '1', 3_900, 3), // mean(100,1000,200)=433.33, ×3 = 1300 → spike
      rec('s5', 'A', '1', 15_300, 4), // mean(1000,200,3900)=1700, ×3 = 5100 → spike
      rec('s6', 'A', '1', 19_400, 5), // mean(200,3900,15300)=6466.67, ×3 = 19400 → not strictly above
      rec('b1', 'B', '1', 999_999, 6), // other ticker has no history
    ]);
    expect(out.alerts.map(alertView)).toEqual(['spike:s4 mean=433.3333', 'spike:s5 mean=1700.0000']);
    expect(out.alerts[0]).toMatchObject({ kind: 'volume_spike', factor: 3, lookback: 3 });
  });

  it('orders the baseline by event time, not arrival, and waits for the watermark', () => {
    const e = new Engine(spec);
    // Arrival order: 3, 1, 2, 4 (all within the 5 s bound). In event time: 100, 100, 100, 1000.
    const pending = run(
      e,
      [rec('e3', 'A', '1', 100, 3_000), rec('e1', 'A', '1', 100, 1_000), rec('e2', 'A', '1', 100, 2_000), rec('e4', 'A', '1', 1_000, 4_000)],
      false,
    );
    expect(pending.alerts).toEqual([]); // watermark is at -1 s: nothing released yet
    const out = run(e, [rec('e5', 'A', '1', 1, 9_000)], false); // watermark 4 s: e1..e4 released in event order
    expect(out.alerts.map(alertView)).toEqual(['spike:e4 mean=100.0000']);
  });

  it('leaves late trades out of the baseline', () => {
    const e = new Engine(spec);
    const out = run(e, [
      rec('p1', 'A', '1', 10, 10_000),
      rec('p2', 'A', '1', 10, 11_000),
      rec('late', 'A', '1', 1_000_000, 0), // late: neither alerted as a spike nor in the mean
      rec('p3', 'A', '1', 10, 12_000),
      rec('p4', 'A', '1', 31, 13_000),
    ]);
    expect(e.counters.late).toBe(1);
    expect(out.alerts.map(alertView)).toEqual(['spike:p4 mean=10.0000']);
  });
});

describe('dead letters', () => {
  it('turns every rejected record into a dead letter with its position and reason', () => {
    const e = new Engine(specWith({}));
    e.process({ value: 'garbage', source: 'file.jsonl', partition: 0, offset: 7 });
    e.process({ value: Uint8Array.from([0xff]), source: 'trades', partition: 2, offset: 99 });
    const out = e.drain();
    expect(out.deadLetters.map((d) => [d.source, d.partition, d.offset, d.code])).toEqual([
      ['file.jsonl', 0, 7, 'invalid_json'],
      ['trades', 2, 99, 'invalid_utf8'],
    ]);
    expect(e.counters).toMatchObject({ read: 2, rejected: 2, accepted: 0 });
  });
});

/**
 * Boundaries worked out by hand, for the engine and for the oracle the pipeline tests compare
 * databases with: both must give these numbers for the same records.
 */
describe('boundaries, computed by hand', () => {
  const lines = (records: ReturnType<typeof rec>[]) => records.map((r) => Buffer.from(r.value));
  const iso = (atMs: number) => new Date(T0 + atMs).toISOString();

  it('a trade exactly at the watermark is on time: in its candle and the spike baseline, checked at once; 1 ms below is late', () => {
    const spec = specWith({ rules: { largeTrade: { enabled: false }, volumeSpike: { factor: 2, lookback: 2 } } }); // out-of-orderness 5 s
    const records = [
      rec('s1', 'A', '1', 10, 0),
      rec('s2', 'A', '1', 10, 1_000),
      rec('s3', 'A', '1', 10, 10_000), // watermark 5 s: s1, s2 released to the spike rule
      rec('at', 'A', '2', 100, 5_000), // at the watermark: on time, and due, so checked now: mean(s1, s2) = 10, 100 > 2 × 10
      rec('below', 'A', '3', 7, 4_999), // 1 ms under it: late
      rec('b1', 'B', '5', 1, 65_000), // watermark 60 s closes A's first window
      rec('b2', 'B', '6', 2, 60_000), // at the watermark, first instant of the next window: on time
      rec('b3', 'B', '7', 3, 59_999), // late: its window is closed
    ];
    const e = new Engine(spec);
    const beforeNext = run(e, records.slice(0, 5), false);
    expect(beforeNext.alerts.map(alertView)).toEqual(['spike:at mean=10.0000']);
    expect(beforeNext.candles).toEqual([]);
    const rest = run(e, records.slice(5));
    expect(e.counters.late).toBe(2);
    // s3's baseline is s2 and `at` (event time, not arrival): mean 55, and 10 is no spike.
    expect(rest.alerts).toEqual([]);
    // A: s1, s2, s3, at (arrival order for open/close); VWAP (10 + 10 + 10 + 200) / 130 = 1.76923… → 1.7692.
    // B: b1, b2; VWAP (5 + 12) / 3 = 5.66666… → 5.6667.
    const candles = [
      { ticker: 'A', start: 0, o: '1.0000', h: '2.0000', l: '1.0000', c: '2.0000', v: 130, vwap: '1.7692', n: 4 },
      { ticker: 'B', start: 60_000, o: '5.0000', h: '6.0000', l: '5.0000', c: '6.0000', v: 3, vwap: '5.6667', n: 2 },
    ];
    expect([...beforeNext.candles, ...rest.candles].map(candleView)).toEqual(candles);

    const o = oracle(lines(records), 'test', spec);
    expect(o).toMatchObject({ read: 8, duplicates: 0, late: 2 });
    expect(o.alerts).toEqual(['spike:at|volume_spike|spike|warning|A|100||||10.0000|2.00|2|||']);
    expect(o.candles).toEqual([`A|${iso(0)}|1.0000|2.0000|1.0000|2.0000|130|1.7692|4`, `B|${iso(60_000)}|5.0000|6.0000|5.0000|6.0000|3|5.6667|2`]);
    expect(o.trades).toHaveLength(8);
  });

  it('remembers a trade_id for at least dedupe.horizonMs of watermark progress and forgets it by 9/8 of it', () => {
    // Out-of-orderness 1 s, horizon 8 s: ids are kept in generations of 1 s of watermark, and
    // the oldest is dropped when a tenth starts.
    const spec = specWith({
      input: { outOfOrdernessMs: 1_000 },
      dedupe: { horizonMs: 8_000 },
      rules: { largeTrade: { enabled: false }, volumeSpike: { enabled: false } },
    });
    // A trade joins the generation before its own event time moves the watermark: f1 joins
    // generation 0 with x, and f_i generation i − 1.
    const fillers = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => rec(`f${i}`, 'A', '1', 1, i * 1_000)); // watermark 0 … 7 s: generations 1 … 8 start
    const records = [
      rec('x', 'A', '10', 1, 0), // watermark −1 s: generation 0 starts there
      ...fillers,
      rec('x', 'A', '99', 9, 8_500), // watermark 7.5 s, 8.5 s after x: still remembered, a duplicate
      rec('f9', 'A', '1', 1, 9_000), // watermark 8 s: generation 9 starts, generation 0 (x, f1) is dropped
      rec('x', 'A', '10', 1, 0), // the first record again: new to the engine, and late (0 < 8 s)
      rec('f2', 'A', '99', 9, 9_000), // f2's generation is still held: a duplicate
    ];
    const e = new Engine(spec);
    const out = run(e, records);
    expect(e.counters).toMatchObject({ read: 13, duplicates: 2, late: 1 });
    expect(out.trades.map((t) => t.tradeId)).toEqual(['x', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8', 'f9', 'x']);
    // x and f1 … f9, the late x left out; VWAP (10 + 9) / 10 = 1.9.
    const candle = { ticker: 'A', start: 0, o: '10.0000', h: '10.0000', l: '1.0000', c: '1.0000', v: 10, vwap: '1.9000', n: 10 };
    expect(out.candles.map(candleView)).toEqual([candle]);

    const o = oracle(lines(records), 'test', spec);
    expect(o).toMatchObject({ read: 13, duplicates: 2, late: 1 });
    // The database keeps the first row of each trade_id.
    expect(o.trades).toEqual([...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => `f${i}|A|1.0000|1|${iso(i * 1_000)}`), `x|A|10.0000|1|${iso(0)}`]);
    expect(o.candles).toEqual([`A|${iso(0)}|10.0000|10.0000|1.0000|1.0000|10|1.9000|10`]);
  });
});

describe('records that are ranges of one buffer (the simulator writes a batch so)', () => {
  it('give what the same bytes as records of their own give, dead letters and their raw bytes included', () => {
    // A feed with replays, malformed lines, disorder and the timestamp alias, in one buffer.
    const lines = [...dirtyFeed({ seed: 17, count: 3_000, startMs: T0, malformed: 0.05, replays: 0.05, late: 0.02 })];
    const bytes = lines.map((l) => Buffer.from(l));
    const buffer = Buffer.concat(bytes.flatMap((b) => [b, Buffer.from('\n')]));
    const ranged: BufferRangeRecord[] = [];
    const own: RawRecord[] = [];
    let at = 0;
    bytes.forEach((b, i) => {
      ranged.push(new BufferRangeRecord(buffer, at, at + b.length, 'feed', 0, i));
      own.push({ value: Uint8Array.from(b), source: 'feed', partition: 0, offset: i });
      at += b.length + 1;
    });
    const spec = specWith({});
    const byRange = new Engine(spec, { now: () => T0 });
    const byOwn = new Engine(spec, { now: () => T0 });
    const a = run(byRange, ranged);
    const b = run(byOwn, own);
    expect(a.deadLetters.length).toBeGreaterThan(50);
    expect(a.alerts.length).toBeGreaterThan(0);
    expect(byRange.counters).toStrictEqual(byOwn.counters);
    expect({ ...a, deadLetters: [] }).toStrictEqual({ ...b, deadLetters: [] });
    // A dead letter keeps exactly its own record's bytes.
    expect(a.deadLetters.map((d) => ({ ...d, raw: Buffer.from(d.raw).toString() }))).toStrictEqual(
      b.deadLetters.map((d) => ({ ...d, raw: Buffer.from(d.raw).toString() })),
    );
  });
});

describe('processBatch (how the pipeline feeds the engine: decoded and prefetched a chunk at a time)', () => {
  it('gives what process gives record by record: output, counters, state and watermark, over chunks and odd batch sizes', () => {
    // Replays, malformed lines, disorder, late trades, three partitions, heartbeats, ids the id
    // set keeps apart (non-Latin-1), records that carry their decoded trade (as Kafka's do), a
    // dedupe horizon short enough that generations are dropped mid-feed, and batches larger
    // than one prefetch chunk.
    const lines = [...dirtyFeed({ seed: 23, count: 6_000, startMs: T0, malformed: 0.04, replays: 0.06, late: 0.02, outOfOrder: 0.05 })];
    const records: RawRecord[] = lines.map((l, i) => ({ value: i % 2 === 0 ? l : Buffer.from(l), source: 'feed', partition: i % 3, offset: i }));
    for (let i = 0; i < 60; i++) {
      const at = 100 * i + 7;
      records.splice(at, 0, { value: `{"heartbeat":"${new Date(T0 + 1_000 * i).toISOString()}"}`, source: 'feed', partition: i % 3, offset: -i });
      const wide = `{"trade_id":"wide-${'é'.repeat(i % 4)}${'€'.repeat(1 + (i % 2))}","ticker":"AAPL","price":"10.00","volume":${1 + i},"trade_timestamp":"${new Date(T0 + 1_000 * i).toISOString()}"}`;
      records.splice(at + 1, 0, { value: wide, source: 'feed', partition: (i + 1) % 3, offset: -1_000 - i });
    }
    const carried: RawRecord = { ...rec('carried-1', 'MSFT', '5.00', 7, 3_000), decoded: null };
    records.splice(2_500, 0, carried, {
      ...rec('carried-2', 'MSFT', '5.00', 7, 3_000),
      decoded: { tradeId: 'carried-2', ticker: 'MSFT', priceE4: 50_000, volume: 7, tsMs: T0 + 3_000 },
    });
    const spec = specWith({ dedupe: { horizonMs: 20_000 } });
    const one = new Engine(spec, { now: () => T0, checkpointable: {} });
    const batched = new Engine(spec, { now: () => T0, checkpointable: {} });
    const outOne = { trades: [] as unknown[], alerts: [] as unknown[], candles: [] as unknown[], deadLetters: [] as unknown[] };
    const outBatched = { trades: [] as unknown[], alerts: [] as unknown[], candles: [] as unknown[], deadLetters: [] as unknown[] };
    const collect = (into: typeof outOne, e: Engine) => {
      const o = e.drain();
      into.trades.push(...o.trades);
      into.alerts.push(...o.alerts);
      into.candles.push(...o.candles);
      into.deadLetters.push(...o.deadLetters);
    };
    for (let from = 0, size = 1; from < records.length; from += size, size = (size * 7 + 3) % 2_900) {
      const batch = records.slice(from, from + size);
      for (const r of batch) one.process(r);
      batched.processBatch(batch);
      expect(batched.watermarkMs).toBe(one.watermarkMs);
      expect(batched.pendingOutput).toBe(one.pendingOutput);
      collect(outOne, one);
      collect(outBatched, batched);
      expect(batched.state()).toStrictEqual(one.state());
    }
    one.finish();
    batched.finish();
    collect(outOne, one);
    collect(outBatched, batched);
    expect(one.counters.duplicates).toBeGreaterThan(100);
    expect(one.counters.rejected).toBeGreaterThan(100);
    expect(one.counters.heartbeats).toBe(60);
    expect(one.counters.late).toBeGreaterThan(10);
    expect(outOne.alerts.length).toBeGreaterThan(0);
    expect(batched.counters).toStrictEqual(one.counters);
    expect(outBatched).toStrictEqual(outOne);
  });
});
