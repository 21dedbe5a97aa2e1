import type { PipelineSpec } from '../../spec/spec.ts';
import { VIEW, type AlertRuleSql } from './views.ts';

/** volume > threshold, as soon as read (late trades included), like the embedded detector. */
export function largeTrade(rule: PipelineSpec['rules']['largeTrade']): AlertRuleSql {
  return {
    ddl: [],
    select: `SELECT CONCAT('large:', trade_id) AS alert_id, CAST('large_trade' AS STRING) AS kind, trade_id, ticker, price, volume, event_time,
  CAST(${rule.threshold} AS BIGINT) AS threshold, CAST(NULL AS DECIMAL(20, 4)) AS baseline_mean,
  CAST(NULL AS DECIMAL(8, 2)) AS factor, CAST(NULL AS INT) AS lookback,
  CONCAT('Large trade detected for ', ticker) AS message
FROM ${VIEW.trades} WHERE volume > ${rule.threshold}`,
  };
}
