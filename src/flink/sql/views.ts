/**
 * The names of the job's tables and views: each builder defines some and reads others, like the
 * embedded operators pass records along (source → parse → dedupe → rules, candles → sinks).
 */
export const VIEW = {
  source: 'tf_source',
  /** Every record with its parse result (one call of the parser function per record). */
  records: 'tf_records',
  valid: 'tf_valid',
  rejected: 'tf_rejected',
  /** Valid trades, first trade_id wins. */
  trades: 'tf_trades',
  /** Deduplicated trades that were not late on arrival: what candles and spike baselines see. */
  onTime: 'tf_on_time',
  alerts: 'tf_alerts',
  candles: 'tf_candles',
} as const;

/** Part of the job: views/tables it defines, INSERTs it contributes to the statement set. */
export interface SqlFragment {
  ddl: string[];
  inserts: string[];
}
