import type { Trade } from '../trade/trade.ts';
import type { Alert } from './records.ts';

/** volume strictly greater than the threshold, as soon as the trade is read. */
export class LargeTradeDetector {
  readonly threshold: number;

  constructor(threshold: number) {
    this.threshold = threshold;
  }

  check(t: Trade, nowMs: number): Alert | null {
    if (t.volume <= this.threshold) return null;
    return {
      alertId: `large:${t.tradeId}`,
      kind: 'large_trade',
      trade: t,
      threshold: this.threshold,
      baselineMeanE4: null,
      factor: null,
      lookback: null,
      detectedAtMs: nowMs,
      message: `Large trade detected for ${t.ticker}`,
    };
  }
}
