/**
 * The rule-specific columns of an alert, flattened: what the table `trade_alerts`, the alerts
 * topic's JSON and the Flink job's alert views carry. In the engine an alert is a union by kind
 * (src/rules/alert.ts); only these edges spell every kind's fields out, absent ones as null.
 * The order is the JSON's key order and the Flink views' column order.
 */
export const ALERT_DETAIL_COLUMNS = {
  /** large_trade: the volume threshold exceeded (the ticker's override where one applies). */
  threshold: { flink: 'BIGINT', table: 'BIGINT', json: 'number' },
  /** notional: the rule's amount, and the trade's price × volume that exceeded it. */
  amount: { flink: 'DECIMAL(20, 2)', table: 'NUMERIC(20,2)', json: 'string' },
  notional: { flink: 'DECIMAL(24, 4)', table: 'NUMERIC(24,4)', json: 'string' },
  /** volume_spike: mean volume of the previous `lookback` trades, the factor and look-back. */
  baseline_mean: { flink: 'DECIMAL(20, 4)', table: 'NUMERIC(20,4)', json: 'string' },
  factor: { flink: 'DECIMAL(8, 2)', table: 'NUMERIC(8,2)', json: 'number' },
  lookback: { flink: 'INT', table: 'INT', json: 'number' },
  /** price_move: the reference price, the move from it in percent, the window in seconds. */
  reference_price: { flink: 'DECIMAL(10, 4)', table: 'NUMERIC(10,4)', json: 'string' },
  change_percent: { flink: 'DECIMAL(10, 2)', table: 'NUMERIC(10,2)', json: 'string' },
  window_seconds: { flink: 'INT', table: 'INT', json: 'number' },
} as const;

export type AlertDetailColumn = keyof typeof ALERT_DETAIL_COLUMNS;
export const DETAIL_COLUMN_NAMES = Object.keys(ALERT_DETAIL_COLUMNS) as AlertDetailColumn[];

/** Values as the JSON and the table take them: exact decimals as text, counts as numbers. */
export type AlertDetailValues = Partial<Record<AlertDetailColumn, string | number>>;
