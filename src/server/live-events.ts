import type { Alert, Candle } from '../engine/records.ts';
import { formatPriceE4, formatTimestamp } from '../trade/trade.ts';

/**
 * The JSON shapes the API and the live stream share. Prices stay exact decimal strings (the
 * contract's form, DESIGN.md §2); times are ISO-8601 UTC. An alert is the alerts-topic record.
 */
export interface AlertJson {
  alert_id: string;
  kind: string;
  trade_id: string;
  ticker: string;
  price: string;
  volume: number;
  trade_timestamp: string;
  threshold: number | null;
  baseline_mean: string | null;
  detected_at: string;
  message: string;
}

export interface CandleJson {
  ticker: string;
  window_start: string;
  window_end: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: number;
  vwap: string;
  trade_count: number;
  /** false for the candle of a window still open: it will change, and it is not stored. */
  closed: boolean;
}

export function alertJson(a: Alert): AlertJson {
  const t = a.trade;
  return {
    alert_id: a.alertId,
    kind: a.kind,
    trade_id: t.tradeId,
    ticker: t.ticker,
    price: formatPriceE4(t.priceE4),
    volume: t.volume,
    trade_timestamp: formatTimestamp(t.tsMs),
    threshold: a.threshold,
    baseline_mean: a.baselineMeanE4 === null ? null : formatPriceE4(a.baselineMeanE4),
    detected_at: formatTimestamp(a.detectedAtMs),
    message: a.message,
  };
}

export function candleJson(c: Candle, closed: boolean): CandleJson {
  return {
    ticker: c.ticker,
    window_start: formatTimestamp(c.windowStartMs),
    window_end: formatTimestamp(c.windowEndMs),
    open: formatPriceE4(c.openE4),
    high: formatPriceE4(c.highE4),
    low: formatPriceE4(c.lowE4),
    close: formatPriceE4(c.closeE4),
    volume: c.volume,
    vwap: formatPriceE4(c.vwapE4),
    trade_count: c.tradeCount,
    closed,
  };
}
