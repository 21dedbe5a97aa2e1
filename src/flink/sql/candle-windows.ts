import type { PipelineSpec } from '../../spec/spec.ts';
import { intervalMs } from '../sql-text.ts';
import { VIEW, type SqlFragment } from './views.ts';

/**
 * Tumbling event-time windows per ticker over the on-time trades. Open/close are the first/last
 * trade in arrival order, which is Kafka offset order within the ticker's partition; encoding
 * (offset, price) in one number keeps it exact after the shuffles (FIRST_VALUE would see the
 * order in which records reach the window operator). VWAP rounded half-up to 4 decimals.
 */
export function candleWindows(candles: PipelineSpec['candles']): SqlFragment {
  const E10 = '10000000000';
  const priceE4 = 'CAST(price * 10000 AS DECIMAL(38, 0))';
  const orderKey = `CAST(source_offset AS DECIMAL(38, 0)) * ${E10} + ${priceE4}`;
  return {
    ddl: [
      `CREATE TEMPORARY VIEW ${VIEW.candles} AS
SELECT ticker, window_start, window_end,
  CAST(CAST(MOD(open_key, ${E10}) AS DECIMAL(38, 0)) / 10000 AS DECIMAL(10, 4)) AS open_price,
  high_price, low_price,
  CAST(CAST(MOD(close_key, ${E10}) AS DECIMAL(38, 0)) / 10000 AS DECIMAL(10, 4)) AS close_price,
  total_volume,
  CAST(CAST((notional_e4 - MOD(notional_e4, total_volume)) / total_volume
    + CASE WHEN 2 * MOD(notional_e4, total_volume) >= total_volume THEN 1 ELSE 0 END AS DECIMAL(38, 0)) / 10000 AS DECIMAL(10, 4)) AS vwap,
  trade_count
FROM (
  SELECT ticker, window_start, window_end,
    MIN(${orderKey}) AS open_key, MAX(${orderKey}) AS close_key,
    MAX(price) AS high_price, MIN(price) AS low_price,
    SUM(CAST(volume AS BIGINT)) AS total_volume,
    SUM(${priceE4} * volume) AS notional_e4,
    CAST(COUNT(*) AS INT) AS trade_count
  FROM TABLE(TUMBLE(TABLE ${VIEW.onTime}, DESCRIPTOR(event_time), ${intervalMs(candles.intervalMs)}))
  GROUP BY ticker, window_start, window_end
)`,
    ],
    inserts: [],
  };
}
