import type { PipelineSpec } from '../../spec/spec.ts';
import { VIEW, type AlertRuleSql } from './views.ts';

/**
 * volume > factor × mean(previous `lookback` on-time trades of the ticker, event-time order),
 * in integers as the embedded detector computes it: volume·n·100 > factor·100·Σ(previous n).
 *
 * Two OVER windows, because of what Flink 1.20's bounded ROWS operator costs: it holds every row
 * of the key that waits for the watermark and scans all it holds (history and waiting rows) once
 * per row it emits, so fed straight from the source its cost per trade grows with the rate times
 * the out-of-orderness bound — at a 5 s bound it dominated the job. The unbounded operator in
 * front sorts a key's waiting rows once per watermark and hands them on in event-time order
 * just before the watermark, so the bounded one only ever waits for the rows of one watermark
 * interval. The first also counts the ticker's trades; the second sums the frame (the previous n
 * and the current one, taken back out).
 */
export function volumeSpike(rule: PipelineSpec['rules']['volumeSpike']): AlertRuleSql {
  const n = rule.lookback;
  const factorHundredths = Math.round(rule.factor * 100);
  // Baseline mean ×10^4 rounded half-up, in integers: q + (2r ≥ n).
  const num = 'prev_sum * 10000';
  const byTime = 'PARTITION BY ticker ORDER BY event_time';
  return {
    ddl: [
      `CREATE TEMPORARY VIEW ${VIEW.spikes}_in_order AS
SELECT trade_id, ticker, price, volume, event_time,
  COUNT(*) OVER (${byTime} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - 1 AS prev_count
FROM ${VIEW.onTime}`,
      `CREATE TEMPORARY VIEW ${VIEW.spikes} AS
SELECT trade_id, ticker, price, volume, event_time, prev_sum FROM (
  SELECT trade_id, ticker, price, volume, event_time, prev_count,
    SUM(CAST(volume AS BIGINT)) OVER (${byTime} ROWS BETWEEN ${n} PRECEDING AND CURRENT ROW) - volume AS prev_sum
  FROM ${VIEW.spikes}_in_order
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
