import type { PipelineSpec } from '../../spec/spec.ts';
import { VIEW, type AlertRuleSql } from './views.ts';

/**
 * volume > factor × mean(previous `lookback` on-time trades of the ticker, event-time order),
 * in integers as the embedded detector computes it: volume·n·100 > factor·100·Σ(previous n).
 * The OVER frame holds the previous n rows and the current one; the current one is taken back out.
 */
export function volumeSpike(rule: PipelineSpec['rules']['volumeSpike']): AlertRuleSql {
  const n = rule.lookback;
  const factorHundredths = Math.round(rule.factor * 100);
  // Baseline mean ×10^4 rounded half-up, in integers: q + (2r ≥ n).
  const num = 'prev_sum * 10000';
  return {
    ddl: [
      `CREATE TEMPORARY VIEW ${VIEW.spikes} AS
SELECT trade_id, ticker, price, volume, event_time, prev_sum FROM (
  SELECT trade_id, ticker, price, volume, event_time,
    COUNT(*) OVER w - 1 AS prev_count,
    SUM(CAST(volume AS BIGINT)) OVER w - volume AS prev_sum
  FROM ${VIEW.onTime}
  WINDOW w AS (PARTITION BY ticker ORDER BY event_time ROWS BETWEEN ${n} PRECEDING AND CURRENT ROW)
) WHERE prev_count >= ${n} AND CAST(volume AS BIGINT) * ${n * 100} > CAST(${factorHundredths} AS BIGINT) * prev_sum`,
    ],
    select: `SELECT CONCAT('spike:', trade_id) AS alert_id, CAST('volume_spike' AS STRING) AS kind, trade_id, ticker, price, volume, event_time,
  CAST(NULL AS BIGINT) AS threshold,
  CAST(CAST(${num} / ${n} + CASE WHEN 2 * (${num} - ${num} / ${n} * ${n}) >= ${n} THEN 1 ELSE 0 END AS DECIMAL(24, 0)) / 10000 AS DECIMAL(20, 4)) AS baseline_mean,
  CAST(${rule.factor} AS DECIMAL(8, 2)) AS factor, CAST(${n} AS INT) AS lookback,
  CONCAT('Volume spike detected for ', ticker) AS message
FROM ${VIEW.spikes}`,
  };
}
