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
}
