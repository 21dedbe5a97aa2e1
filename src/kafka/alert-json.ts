import type { Alert } from '../engine/records.ts';
import { formatPriceE4, formatTimestamp } from '../trade/trade.ts';

/** An alert on the wire (docs/architecture.md#alert). `alert_id` is stable, so consumers can dedupe a replay. */
export interface AlertJson {
  alert_id: string;
  kind: Alert['kind'];
  trade_id: string;
  ticker: string;
  price: string;
  volume: number;
  trade_timestamp: string;
  /** large_trade: the threshold the volume exceeded. */
  threshold?: number;
  /** volume_spike: mean volume of the previous `lookback` trades it was measured against. */
  baseline_mean?: string;
  factor?: number;
  lookback?: number;
  detected_at: string;
  message: string;
}

export function alertToJson(a: Alert): AlertJson {
  const t = a.trade;
  const j: AlertJson = {
    alert_id: a.alertId,
    kind: a.kind,
    trade_id: t.tradeId,
    ticker: t.ticker,
    price: formatPriceE4(t.priceE4),
    volume: t.volume,
    trade_timestamp: formatTimestamp(t.tsMs),
    detected_at: formatTimestamp(a.detectedAtMs),
    message: a.message,
  };
  if (a.threshold !== null) j.threshold = a.threshold;
  if (a.baselineMeanE4 !== null) j.baseline_mean = formatPriceE4(a.baselineMeanE4);
  if (a.factor !== null) j.factor = a.factor;
  if (a.lookback !== null) j.lookback = a.lookback;
  // The contract's key order: rule details before detected_at and message.
  const { detected_at, message, ...rest } = j;
  return { ...rest, detected_at, message };
}

/** Parses an alert read back from the topic; null for anything that is not one. */
export function parseAlertJson(bytes: Buffer): AlertJson | null {
  try {
    const v = JSON.parse(bytes.toString('utf8')) as Partial<AlertJson>;
    if (typeof v.alert_id !== 'string' || typeof v.kind !== 'string' || typeof v.ticker !== 'string') return null;
    return v as AlertJson;
  } catch {
    return null;
  }
}
