/**
 * A validated trade. Prices are kept as integers in units of 1/10,000 (the scale of the
 * NUMERIC(10,4) column) so no float rounding happens between the wire and PostgreSQL.
 */
export interface Trade {
  readonly tradeId: string;
  readonly ticker: string;
  /** price × 10^4, an exact integer (price < 10^6 so this stays below 2^53). */
  readonly priceE4: number;
  readonly volume: number;
  /** Event time, epoch milliseconds (TIMESTAMPTZ is stored at millisecond precision by both engines). */
  readonly tsMs: number;
}

export const PRICE_SCALE = 10_000;
export const MAX_VOLUME = 2_147_483_647;
export const MAX_TRADE_ID_LENGTH = 255;
export const TICKER_PATTERN = /^[A-Z0-9.-]{1,10}$/;
/**
 * The latest event time accepted, 9999-12-30T23:59:59.999Z: a candle window (epoch-aligned, at
 * most a day long) holding such a trade still ends inside year 9999, the range where
 * JavaScript's ISO text, PostgreSQL's input and Flink's TIMESTAMP all agree. A trade in the
 * last day of 9999 would make a window end in year 10000, which the database refuses — one
 * such record used to fail a whole run.
 */
export const MAX_EVENT_TIME_MS = Date.UTC(9999, 11, 31) - 1;

/** 187.23 → "187.2300": the canonical text of a NUMERIC(10,4). */
export function formatPriceE4(priceE4: number): string {
  const whole = Math.trunc(priceE4 / PRICE_SCALE);
  const frac = priceE4 - whole * PRICE_SCALE;
  return `${whole}.${String(frac).padStart(4, '0')}`;
}

export function formatTimestamp(tsMs: number): string {
  return new Date(tsMs).toISOString();
}

/** The contract's wire form (docs/architecture.md#trade-event): always `trade_timestamp`, price as an exact decimal string. */
export interface TradeJson {
  trade_id: string;
  ticker: string;
  price: string;
  volume: number;
  trade_timestamp: string;
}

export function tradeToJson(t: Trade): TradeJson {
  return {
    trade_id: t.tradeId,
    ticker: t.ticker,
    price: formatPriceE4(t.priceE4),
    volume: t.volume,
    trade_timestamp: formatTimestamp(t.tsMs),
  };
}
