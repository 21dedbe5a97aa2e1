import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import type { Alert } from '../../src/engine/records.ts';
import { dirtyFeed } from '../../src/simulate/dirty-feed.ts';
import { DEFAULT_TICKERS, Market } from '../../src/simulate/market.ts';
import { SeededRandom } from '../../src/simulate/random.ts';
import { cumulativeIntensity, intensity, MEAN_INTENSITY, SESSION_MS, SessionClock, tradesDue } from '../../src/simulate/session.ts';
import { tickerProfile } from '../../src/simulate/tickers.ts';
import { SimulatorSource } from '../../src/source/simulator-source.ts';
import { defaultSpec } from '../../src/spec/spec.ts';
import { type Trade, tradeToJson } from '../../src/trade/trade.ts';

const OPEN = Date.UTC(2026, 10, 30, 14, 30, 0);

async function sourceLines(o: ConstructorParameters<typeof SimulatorSource>[0]): Promise<string[]> {
  const lines: string[] = [];
  for await (const batch of new SimulatorSource(o).batches(new AbortController().signal)) {
    for (const r of batch) lines.push(new TextDecoder('utf-8', { fatal: true }).decode(r.value as Uint8Array));
  }
  return lines;
}

describe('trade sizes', () => {
  const N = 1_000_000;
  const volumes = new Int32Array(N);
  beforeAll(() => {
    const m = new Market({ seed: 20261130 });
    for (let i = 0; i < N; i++) volumes[i] = m.next(OPEN + i).volume;
  });

  it('more than 1,000,000 shares is rare: at most 0.05 % of trades (about 0.01 %)', () => {
    let large = 0;
    for (const v of volumes) if (v > 1_000_000) large++;
    expect(large / N).toBeLessThanOrEqual(0.0005);
    // The tail is there, at the calibrated 0.01 %: large-trade alerts still happen.
    expect(large / N).toBeGreaterThan(0.00005);
  });

  it('whole shares from 1 up, a log-normal body with a heavy tail, round lots common', () => {
    let roundLots = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    const sorted = Float64Array.from(volumes).sort();
    let bad = 0;
    for (const v of volumes) {
      if (!Number.isInteger(v) || v < 1) bad++;
      if (v % 100 === 0) roundLots++;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(bad).toBe(0);
    expect(roundLots / N).toBeGreaterThan(0.4);
    const median = sorted[N / 2]!;
    expect(median).toBeGreaterThanOrEqual(150);
    expect(median).toBeLessThanOrEqual(250);
    // Heavy tail: the largest trade is thousands of medians; the 99th percentile only a few.
    expect(sorted[Math.floor(N * 0.99)]! / median).toBeLessThan(8);
    expect(max / median).toBeGreaterThan(5_000);
    expect(min).toBeGreaterThanOrEqual(1);
  });
});

describe('prices', () => {
  /** Close-to-close log returns per ticker over `days` sessions at 0.5 trades/s (11,700 a day). */
  function dailyVols(seed: number, days: number, newsEverySeconds?: number): Map<string, number> {
    const perSecond = 0.5;
    const perDay = (perSecond * SESSION_MS) / 1000;
    const m = new Market({ seed, tradesPerSecond: perSecond, ...(newsEverySeconds === undefined ? {} : { newsEverySeconds }) });
    const last = new Map<string, number>();
    const closes = new Map<string, number[]>(DEFAULT_TICKERS.map((t) => [t, []]));
    let nonPositive = 0;
    for (let d = 0; d < days; d++) {
      for (let i = 0; i < perDay; i++) {
        const t = m.next(OPEN);
        if (t.priceE4 <= 0) nonPositive++;
        last.set(t.ticker, t.priceE4);
      }
      for (const [ticker, p] of last) closes.get(ticker)!.push(p);
    }
    expect(nonPositive).toBe(0);
    const vols = new Map<string, number>();
    for (const [ticker, c] of closes) {
      const r = c.slice(1).map((p, i) => Math.log(p / c[i]!));
      const mean = r.reduce((a, b) => a + b, 0) / r.length;
      vols.set(ticker, Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / (r.length - 1)));
    }
    return vols;
  }

  it("without news, each ticker's realised daily volatility is its profile's, within ±20 %", () => {
    const vols = dailyVols(7, 200, 0);
    for (const ticker of DEFAULT_TICKERS) {
      const target = tickerProfile(ticker, new SeededRandom(0)).dailyVol;
      expect(target).toBeGreaterThanOrEqual(0.01);
      expect(target).toBeLessThanOrEqual(0.04);
      expect(vols.get(ticker)! / target, ticker).toBeGreaterThan(0.8);
      expect(vols.get(ticker)! / target, ticker).toBeLessThan(1.2);
    }
  });

  it('with news, realised daily volatility stays a few percent: 1–5 % for every ticker', () => {
    const vols = dailyVols(8, 200);
    for (const ticker of DEFAULT_TICKERS) {
      const target = tickerProfile(ticker, new SeededRandom(0)).dailyVol;
      expect(vols.get(ticker)!, ticker).toBeGreaterThan(Math.max(0.01, target * 0.8));
      expect(vols.get(ticker)!, ticker).toBeLessThan(0.05);
    }
  });

  it('the per-trade move shrinks with the rate, so a day moves as much at any rate', () => {
    // Same seed, same draws; only the rate differs: per-trade log moves scale by √(rate ratio).
    const moves = (perSecond: number) => {
      const m = new Market({ seed: 3, tradesPerSecond: perSecond, newsEverySeconds: 0, tickers: ['X'] });
      let prev = m.next(0).priceE4;
      let sq = 0;
      for (let i = 0; i < 100_000; i++) {
        const p = m.next(0).priceE4;
        sq += Math.log(p / prev) ** 2;
        prev = p;
      }
      return Math.sqrt(sq / 100_000);
    };
    expect(moves(10) / moves(1000)).toBeCloseTo(10, 0);
  });

  it('prices keep 4 decimals and stay inside the contract for a very long run', () => {
    // 400 sessions at 0.05 trades/s: the slow pull to each ticker's level keeps prices sane.
    const m = new Market({ seed: 99, tradesPerSecond: 0.05 });
    let lo = Number.POSITIVE_INFINITY;
    let hi = 0;
    let fractional = 0;
    for (let i = 0; i < 400 * 1_170; i++) {
      const p = m.next(OPEN).priceE4;
      if (!Number.isInteger(p)) fractional++;
      lo = Math.min(lo, p);
      hi = Math.max(hi, p);
    }
    expect(fractional).toBe(0);
    expect(lo).toBeGreaterThan(10 * 10_000);
    expect(hi).toBeLessThan(5_000 * 10_000);
  });
});

describe('the trading day', () => {
  it('intensity is U-shaped: the full rate at the bells, a third at midday, 5/9 on average', () => {
    expect(intensity(0)).toBeCloseTo(1, 12);
    expect(intensity(1)).toBeCloseTo(1, 12);
    expect(intensity(0.5)).toBeCloseTo(1 / 3, 12);
    expect(MEAN_INTENSITY).toBeCloseTo(5 / 9, 12);
    expect(cumulativeIntensity(0)).toBe(0);
    expect(cumulativeIntensity(1)).toBeCloseTo(MEAN_INTENSITY, 12);
    // A paced run never gets ahead of --rate: a day at 1,000/s is 13 million trades, the first
    // minute of the next day close to (never above) 60,000.
    expect(tradesDue(SESSION_MS, 1000)).toBeCloseTo(13_000_000, 3);
    const firstMinute = tradesDue(2 * SESSION_MS + 60_000, 1000) - tradesDue(2 * SESSION_MS, 1000);
    expect(firstMinute).toBeLessThanOrEqual(60_000);
    expect(firstMinute).toBeGreaterThan(59_000);
    for (let ms = 0; ms < SESSION_MS; ms += 60_000) expect(tradesDue(ms + 60_000, 1000) - tradesDue(ms, 1000)).toBeLessThanOrEqual(60_000 + 1e-6);
  });

  it('an unpaced run trades more per simulated minute at the open and close than at midday', async () => {
    // 10 trades per simulated second at the open: one session is 130,000 trades.
    const perDay = (SESSION_MS / 100) * MEAN_INTENSITY;
    const lines = await sourceLines({ seed: 5, rate: null, count: perDay + 5_000, startMs: OPEN, stepMs: 100 });
    const perMinute = new Map<number, number>();
    for (const line of lines) {
      const minute = Math.floor((Date.parse(JSON.parse(line).trade_timestamp) - OPEN) / 60_000);
      perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
    }
    const at = (m: number) => perMinute.get(m) ?? 0;
    const open = at(0) + at(1) + at(2);
    const midday = at(194) + at(195) + at(196);
    const close = at(387) + at(388) + at(389);
    expect(open).toBeGreaterThan(2.5 * midday);
    expect(close).toBeGreaterThan(2.5 * midday);
    // 600 a minute at the bells, 200 at midday (the clock is deterministic; only rounding).
    expect(open / 3).toBeGreaterThan(580);
    expect(open / 3).toBeLessThanOrEqual(600);
    expect(midday / 3).toBeLessThan(210);
    // The day is 6.5 simulated hours long, and the next one opens busy again.
    expect(at(390) + at(391) + at(392)).toBeGreaterThan(2.5 * midday);
  });

  it('the session clock never goes back', () => {
    const c = new SessionClock(OPEN, 1);
    let prev = c.next();
    expect(prev).toBe(OPEN + 1);
    let backwards = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const t = c.next();
      if (t < prev) backwards++;
      prev = t;
    }
    expect(backwards).toBe(0);
    // A million 1 ms steps from the open: a little over 1,000 s, the gaps widening toward midday.
    expect(prev - OPEN).toBeGreaterThan(1_000_000);
    expect(prev - OPEN).toBeLessThan(1_100_000);
  });
});

describe('news bursts through the engine (default rules)', () => {
  const N = 1_200_000;
  const alerts: Alert[] = [];
  /** Trades where a ticker's price moved ≥ 2.5 % from its previous trade: news breaking. */
  const jumps: { trade: Trade; before: number }[] = [];
  let simulatedSeconds = 0;

  beforeAll(async () => {
    const engine = new Engine(defaultSpec());
    // The source's records and a twin market's trades are the same trades (tested below).
    const market = new Market({ seed: 42, tradesPerSecond: 1000 * MEAN_INTENSITY });
    const clock = new SessionClock(OPEN, 1);
    const lastPrice = new Map<string, number>();
    let first = 0;
    let last = 0;
    for (let i = 0; i < N; i++) {
      const t = market.next(clock.next());
      if (i === 0) first = t.tsMs;
      last = t.tsMs;
      const before = lastPrice.get(t.ticker);
      if (before !== undefined && Math.abs(t.priceE4 / before - 1) >= 0.025) jumps.push({ trade: t, before });
      lastPrice.set(t.ticker, t.priceE4);
      engine.process({ value: JSON.stringify(tradeToJson(t)), source: 'test', partition: 0, offset: i });
      if ((i & 16_383) === 0) alerts.push(...engine.drain().alerts);
    }
    engine.finish();
    alerts.push(...engine.drain().alerts);
    simulatedSeconds = (last - first) / 1000;
  });

  it('news breaks several times in twenty simulated minutes, each a jump of a few percent', () => {
    expect(simulatedSeconds).toBeGreaterThan(1_200);
    expect(jumps.length).toBeGreaterThanOrEqual(2);
    for (const j of jumps) {
      const move = Math.abs(j.trade.priceE4 / j.before - 1);
      expect(move).toBeGreaterThan(0.025);
      expect(move).toBeLessThan(0.07);
    }
  });

  it('each burst fires the volume-spike rule on its ticker within seconds', () => {
    for (const j of jumps) {
      const spikes = alerts.filter(
        (a) => a.kind === 'volume_spike' && a.trade.ticker === j.trade.ticker && a.trade.tsMs >= j.trade.tsMs && a.trade.tsMs <= j.trade.tsMs + 10_000,
      );
      expect(spikes.length, `news on ${j.trade.ticker} at ${new Date(j.trade.tsMs).toISOString()}`).toBeGreaterThanOrEqual(1);
    }
  });

  it('each burst moves the price more than 2 % against its price 60 s earlier (a price-move rule would fire)', () => {
    // Replayed with the same seed: the last price at or before t − 60 s, per ticker.
    const market = new Market({ seed: 42, tradesPerSecond: 1000 * MEAN_INTENSITY });
    const clock = new SessionClock(OPEN, 1);
    const history = new Map<string, { ts: number; p: number }[]>();
    for (let i = 0; i < N; i++) {
      const t = market.next(clock.next());
      const h = history.get(t.ticker) ?? [];
      h.push({ ts: t.tsMs, p: t.priceE4 });
      history.set(t.ticker, h);
    }
    for (const j of jumps) {
      const h = history.get(j.trade.ticker)!;
      const earlier = h.filter((x) => x.ts <= j.trade.tsMs - 60_000).at(-1);
      if (earlier === undefined) continue; // news in the first minute: no earlier price yet
      const later = h.filter((x) => x.ts >= j.trade.tsMs && x.ts <= j.trade.tsMs + 5_000);
      expect(later.some((x) => Math.abs(x.p / earlier.p - 1) > 0.02)).toBe(true);
    }
  });

  it('alerts come about once every 1–10 s at 1,000 trades/s, of both kinds', () => {
    const large = alerts.filter((a) => a.kind === 'large_trade').length;
    const spikes = alerts.filter((a) => a.kind === 'volume_spike').length;
    // At an average of 1,000 trades/s, alerts per 1,000 trades are alerts per second.
    const perSecondAt1000 = ((large + spikes) / N) * 1000;
    expect(perSecondAt1000).toBeGreaterThanOrEqual(0.1);
    expect(perSecondAt1000).toBeLessThanOrEqual(1);
    expect(large).toBeGreaterThan(0);
    expect(spikes).toBeGreaterThan(large);
  });
});

describe('reproducibility', () => {
  const digest = (lines: string[]) => createHash('sha256').update(lines.join('\n')).digest('hex');

  it('the same seed gives byte-identical output; another seed does not', async () => {
    const o = { rate: null, count: 200_000, startMs: OPEN } as const;
    const a = await sourceLines({ seed: 11, ...o });
    const b = await sourceLines({ seed: 11, ...o });
    const c = await sourceLines({ seed: 12, ...o });
    expect(a).toHaveLength(200_000);
    expect(digest(a)).toBe(digest(b));
    expect(digest(c)).not.toBe(digest(a));
    const dirty = (seed: number) => [...dirtyFeed({ seed, count: 20_000, startMs: OPEN })];
    expect(digest(dirty(3))).toBe(digest(dirty(3)));
    expect(digest(dirty(4))).not.toBe(digest(dirty(3)));
  });

  it("the source's lines are the contract JSON of the market's trades on the session clock", async () => {
    const lines = await sourceLines({ seed: 13, rate: null, count: 50_000, startMs: OPEN, tickers: ['AAPL', 'BRK.B', 'X-1'] });
    const market = new Market({ seed: 13, tickers: ['AAPL', 'BRK.B', 'X-1'], tradesPerSecond: 1000 * MEAN_INTENSITY });
    const clock = new SessionClock(OPEN, 1);
    const expected = lines.map(() => JSON.stringify(tradeToJson(market.next(clock.next()))));
    expect(lines).toEqual(expected);
  });
});
