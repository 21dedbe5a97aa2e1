import type { PipelineSpec } from '../../spec/spec.ts';
import { intervalMs } from '../sql-text.ts';
import { VIEW, type SqlFragment } from './views.ts';

/** Offsets below this keep `offset·10^10 + price·10^4` inside a BIGINT (< 9.22·10^18). */
const BIGINT_OFFSET_LIMIT = 900_000_000;

/**
 * Tumbling event-time windows per ticker over the on-time trades. Open/close are the first/last
 * trade in arrival order, which is Kafka offset order within the ticker's partition; encoding
 * (offset, price) in one number keeps it exact after the shuffles (FIRST_VALUE would see the
 * order in which records reach the window operator). VWAP rounded half-up to 4 decimals.
 *
 * Per-trade arithmetic stays in BIGINT: Flink's DECIMAL(38, 0) goes through BigDecimal on every
 * row and was a sixth of the job's CPU. The order key is a BIGINT while the offset is below
 * BIGINT_OFFSET_LIMIT and the same number as a DECIMAL(38, 0) beyond it (every small key is below
 * every large one, so open = the smallest small key if any, close = the largest large key if
 * any). The notional Σ price·10^4·volume is summed in two BIGINT halves (price·10^4 = hi·10^5 +
 * lo): a single term fits even at the largest price and volume, and a half overflows only past
 * ≈ 9·10^13 shares in one candle. The halves are joined in decimals once per window.
 */
export function candleWindows(candles: PipelineSpec['candles']): SqlFragment {
  const E10 = '10000000000';
  const priceE4 = 'CAST(price * 10000 AS BIGINT)';
  const small = `source_offset < ${BIGINT_OFFSET_LIMIT}`;
  const smallKey = `CASE WHEN ${small} THEN source_offset * ${E10} + ${priceE4} END`;
  // Every operand a DECIMAL(38, 0): with a BIGINT among them the planner multiplies in BIGINT.
  const largeKey = `CASE WHEN NOT (${small}) THEN CAST(source_offset AS DECIMAL(38, 0)) * CAST(${E10} AS DECIMAL(38, 0)) + CAST(${priceE4} AS DECIMAL(38, 0)) END`;
  const priceOf = (smallKeyColumn: string, largeKeyColumn: string): string =>
    `CAST(CAST(COALESCE(MOD(${smallKeyColumn}, ${E10}), CAST(MOD(${largeKeyColumn}, CAST(${E10} AS DECIMAL(38, 0))) AS BIGINT)) AS DECIMAL(38, 0)) / 10000 AS DECIMAL(10, 4))`;
  return {
    ddl: [
      `CREATE TEMPORARY VIEW ${VIEW.candles} AS
SELECT ticker, window_start, window_end,
  ${priceOf('open_small', 'open_large')} AS open_price,
  high_price, low_price,
  ${priceOf('close_small', 'close_large')} AS close_price,
  total_volume,
  CAST(CAST((notional_e4 - MOD(notional_e4, total_volume)) / total_volume
    + CASE WHEN 2 * MOD(notional_e4, total_volume) >= total_volume THEN 1 ELSE 0 END AS DECIMAL(38, 0)) / 10000 AS DECIMAL(10, 4)) AS vwap,
  trade_count
FROM (
  SELECT ticker, window_start, window_end, open_small, open_large,
    CASE WHEN close_large IS NULL THEN close_small END AS close_small, close_large,
    high_price, low_price, total_volume,
    CAST(notional_hi AS DECIMAL(38, 0)) * 100000 + notional_lo AS notional_e4,
    trade_count
  FROM (
    SELECT ticker, window_start, window_end,
      MIN(${smallKey}) AS open_small, MIN(${largeKey}) AS open_large,
      MAX(${smallKey}) AS close_small, MAX(${largeKey}) AS close_large,
      MAX(price) AS high_price, MIN(price) AS low_price,
      SUM(CAST(volume AS BIGINT)) AS total_volume,
      SUM(${priceE4} / 100000 * CAST(volume AS BIGINT)) AS notional_hi,
      SUM(CAST(MOD(${priceE4}, 100000) AS BIGINT) * CAST(volume AS BIGINT)) AS notional_lo,
      CAST(COUNT(*) AS INT) AS trade_count
    FROM TABLE(TUMBLE(TABLE ${VIEW.onTime}, DESCRIPTOR(event_time), ${intervalMs(candles.intervalMs)}))
    GROUP BY ticker, window_start, window_end
  )
)`,
    ],
    inserts: [],
  };
}
