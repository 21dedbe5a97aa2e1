import type { Alert, Candle } from '../engine/records.ts';
import { alertToJson, type AlertJson as WireAlertJson } from '../kafka/alert-json.ts';
import { SEVERITIES, type Severity } from '../rules/severity.ts';
import { formatPriceE4, formatTimestamp } from '../trade/trade.ts';

/**
 * The JSON shapes the API and the live stream share. Prices stay exact decimal strings (the
 * contract's form, docs/architecture.md#contracts); times are ISO-8601 UTC. An alert is the
 * alerts-topic record.
 */
export interface AlertJson {
  alert_id: string;
  kind: string;
  /** The rule's unique name; `alert_id` is `<rule>:<trade_id>`. */
  rule: string;
  severity: Severity;
  trade_id: string;
  ticker: string;
  price: string;
  volume: number;
  trade_timestamp: string;
  threshold: number | null;
  baseline_mean: string | null;
  /** The other kinds' fields (docs/rules.md#alerts); the API spells each out, null when absent. */
  amount?: string | null;
  notional?: string | null;
  factor?: number | null;
  lookback?: number | null;
  reference_price?: string | null;
  change_percent?: string | null;
  window_seconds?: number | null;
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

/** An engine alert in the API shape: the alerts-topic record, with absent rule fields as null. */
export function alertJson(a: Alert): AlertJson {
  return alertFromWire(alertToJson(a));
}

/**
 * The topic omits fields a rule does not have; the API shape spells them out as null. Producers
 * from before rules had names send neither rule nor severity: the rule is the alert_id's prefix
 * (their ids were already `<rule>:<trade_id>`) and the severity `warning`, as the table's
 * migration back-fills them.
 */
export function alertFromWire(a: WireAlertJson & { rule?: unknown; severity?: unknown }): AlertJson {
  return {
    alert_id: a.alert_id,
    kind: a.kind,
    rule: typeof a.rule === 'string' && a.rule !== '' ? a.rule : ruleFromId(a.alert_id),
    severity: SEVERITIES.includes(a.severity as Severity) ? (a.severity as Severity) : 'warning',
    trade_id: a.trade_id,
    ticker: a.ticker,
    price: a.price,
    volume: a.volume,
    trade_timestamp: a.trade_timestamp,
    threshold: a.threshold ?? null,
    amount: a.amount ?? null,
    notional: a.notional ?? null,
    baseline_mean: a.baseline_mean ?? null,
    factor: a.factor ?? null,
    lookback: a.lookback ?? null,
    reference_price: a.reference_price ?? null,
    change_percent: a.change_percent ?? null,
    window_seconds: a.window_seconds ?? null,
    detected_at: a.detected_at,
    message: a.message,
  };
}

function ruleFromId(alertId: string): string {
  const i = alertId.indexOf(':');
  return i < 0 ? alertId : alertId.slice(0, i);
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
