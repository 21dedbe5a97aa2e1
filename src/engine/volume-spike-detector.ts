import { divideHalfUp } from '../trade/decimal.ts';
import type { Trade } from '../trade/trade.ts';
import type { Alert } from './records.ts';

interface TickerHistory {
  /** Ring buffer of the last `lookback` volumes. */
  volumes: number[];
  next: number;
  count: number;
  sum: number;
}

/**
 * volume > factor × mean volume of the ticker's previous `lookback` trades (the current one
 * excluded), once at least `lookback` earlier trades exist. Trades must arrive in event-time
 * order (the engine feeds it from its EventTimeQueue). Compared in integers, so no float
 * rounding decides an alert: volume·lookback·100 > factor·100·sum.
 */
export class VolumeSpikeDetector {
  readonly factor: number;
  readonly lookback: number;
  readonly #factorHundredths: number;
  readonly #history = new Map<string, TickerHistory>();

  constructor(factor: number, lookback: number) {
    this.factor = factor;
    this.lookback = lookback;
    this.#factorHundredths = Math.round(factor * 100);
  }

  check(t: Trade, nowMs: number): Alert | null {
    let h = this.#history.get(t.ticker);
    if (h === undefined) {
      h = { volumes: new Array<number>(this.lookback).fill(0), next: 0, count: 0, sum: 0 };
      this.#history.set(t.ticker, h);
    }
    let alert: Alert | null = null;
    if (h.count >= this.lookback && t.volume * this.lookback * 100 > this.#factorHundredths * h.sum) {
      alert = {
        alertId: `spike:${t.tradeId}`,
        kind: 'volume_spike',
        trade: t,
        threshold: null,
        baselineMeanE4: Number(divideHalfUp(BigInt(h.sum) * 10_000n, BigInt(this.lookback))),
        factor: this.factor,
        lookback: this.lookback,
        detectedAtMs: nowMs,
        message: `Volume spike detected for ${t.ticker}`,
      };
    }
    h.sum += t.volume - h.volumes[h.next]!;
    h.volumes[h.next] = t.volume;
    h.next = (h.next + 1) % this.lookback;
    if (h.count < this.lookback) h.count++;
    return alert;
  }

  /** Each ticker's baseline, oldest volume first, for a checkpoint. */
  exportTo(state: (ticker: string) => { baseline: number[] }): void {
    for (const [ticker, h] of this.#history) {
      const out = state(ticker).baseline;
      // While filling, the ring starts at 0; once full, the oldest volume is at `next`.
      const from = h.count < this.lookback ? 0 : h.next;
      for (let i = 0; i < h.count; i++) out.push(h.volumes[(from + i) % this.lookback]!);
    }
  }

  /** A ticker's baseline from a checkpoint (its last `lookback` volumes, oldest first). */
  restore(ticker: string, baseline: readonly number[]): void {
    const recent = baseline.slice(-this.lookback);
    const volumes = new Array<number>(this.lookback).fill(0);
    for (const [i, v] of recent.entries()) volumes[i] = v;
    const sum = recent.reduce((s, v) => s + v, 0);
    this.#history.set(ticker, { volumes, next: recent.length % this.lookback, count: recent.length, sum });
  }

  forget(tickers: ReadonlySet<string>): void {
    for (const t of tickers) this.#history.delete(t);
  }
}
