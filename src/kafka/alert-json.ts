import type { Alert } from '../engine/records.ts';
import { DETAIL_COLUMN_NAMES } from '../rules/alert-columns.ts';
import { alertDetailValues } from '../rules/alert.ts';
import type { Severity } from '../rules/severity.ts';
import { formatPriceE4, formatTimestamp } from '../trade/trade.ts';

/**
 * An alert on the wire (docs/architecture.md#alert). `alert_id` (`<rule>:<trade_id>`) is stable,
 * so consumers can dedupe a replay. The kind's own fields (src/rules/alert-columns.ts) sit
 * between the trade and detected_at; a kind's absent fields are omitted.
 */
export interface AlertJson {
  alert_id: string;
  kind: Alert['kind'];
  /** The rule's name. Absent in alerts written before rules files (it is alert_id's prefix). */
  rule?: string;
  severity?: Severity;
  trade_id: string;
  ticker: string;
  price: string;
  volume: number;
  trade_timestamp: string;
  /** large_trade: the threshold the volume exceeded. */
  threshold?: number;
  /** notional: the rule's amount and the trade's price × volume. */
  amount?: string;
  notional?: string;
  /** volume_spike: mean volume of the previous `lookback` trades it was measured against. */
  baseline_mean?: string;
  factor?: number;
  lookback?: number;
  /** price_move: the price it moved from, by how much, within how long. */
  reference_price?: string;
  change_percent?: string;
  window_seconds?: number;
  detected_at: string;
  message: string;
}

export function alertToJson(a: Alert): AlertJson {
  const t = a.trade;
  const j: Record<string, unknown> = {
    alert_id: a.alertId,
    kind: a.kind,
    rule: a.rule,
    severity: a.severity,
    trade_id: t.tradeId,
    ticker: t.ticker,
    price: formatPriceE4(t.priceE4),
    volume: t.volume,
    trade_timestamp: formatTimestamp(t.tsMs),
  };
  const details = alertDetailValues(a);
  for (const c of DETAIL_COLUMN_NAMES) if (details[c] !== undefined) j[c] = details[c];
  j.detected_at = formatTimestamp(a.detectedAtMs);
  j.message = a.message;
  return j as unknown as AlertJson;
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
