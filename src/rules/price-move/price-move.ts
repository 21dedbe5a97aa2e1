import { z } from 'zod';
import { intervalMs } from '../../flink/sql-text.ts';
import { formatPriceE4, type Trade } from '../../trade/trade.ts';
import type { KindSql, RuleCommon, RuleKind, RuleOperator } from '../rule-kind.ts';
import { formatCount } from '../words.ts';

export interface PriceMoveRule extends RuleCommon {
  readonly kind: 'price_move';
  /** Alert when the price is more than this many percent away from the reference price. */
  readonly percent: number;
  readonly windowSeconds: number;
}

export interface PriceMoveDetails {
  readonly kind: 'price_move';
  readonly referencePriceE4: number;
  /** (price − reference) / reference in basis points (hundredths of a percent), half away from zero. */
  readonly changeBp: number;
  readonly windowSeconds: number;
}

interface TickerWindow {
  /** Event times and prices of the ticker's trades in the window, oldest first. */
  times: number[];
  prices: number[];
  /** Index of the oldest still in the window (the arrays are compacted now and then). */
  head: number;
  /** Whether the ticker's previous trade was beyond the threshold (the rule is disarmed). */
  crossing: boolean;
}

/** Checkpointed form of a ticker's window. */
interface PriceMoveState {
  window: Array<[number, number]>;
  crossing: boolean;
}

/**
 * The price moved more than `percent` % within `windowSeconds` of event time (docs/rules.md):
 * a trade at time t is compared with the reference price, the price of the ticker's first trade
 * at or after t − W (event-time order, arrival order among equal times; the trade itself when it
 * is the only one). It fires on the first trade beyond the threshold and re-arms once a trade is
 * back within it: one alert per crossing, not one per trade of a move.
 */
export const priceMove: RuleKind<PriceMoveRule, PriceMoveDetails> = {
  kind: 'price_move',
  fields: {
    percent: z.number().positive().max(1000).multipleOf(0.01),
    windowSeconds: z.number().int().min(1).max(86_400),
  },
  needsOrder: true,
  message: 'Price move detected for ',
  describe: (r) => `the price moving more than ${formatCount(r.percent)} % within ${formatCount(r.windowSeconds)} s (once per crossing)`,
  operator: (r) => new PriceMoveOperator(r),
  columns: (d) => ({ reference_price: formatPriceE4(d.referencePriceE4), change_percent: formatBp(d.changeBp), window_seconds: d.windowSeconds }),
  flink: (r, input, prefix) => priceMoveSql(r, input, prefix),
};

/** −235 → "-2.35" */
function formatBp(bp: number): string {
  const abs = Math.abs(bp);
  return `${bp < 0 ? '-' : ''}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** Half away from zero, exactly (the operands can pass 2^53 when multiplied out). */
function changeBp(priceE4: number, refE4: number): number {
  const num = BigInt(priceE4 - refE4) * 10_000n;
  const den = BigInt(refE4);
  const abs = num < 0n ? -num : num;
  const q = abs / den;
  const rounded = (abs - q * den) * 2n >= den ? q + 1n : q;
  return Number(num < 0n ? -rounded : rounded);
}

class PriceMoveOperator implements RuleOperator<PriceMoveDetails> {
  readonly #windowMs: number;
  readonly #windowSeconds: number;
  readonly #percentBp: number;
  readonly #tickers = new Map<string, TickerWindow>();

  constructor(r: PriceMoveRule) {
    this.#windowSeconds = r.windowSeconds;
    this.#windowMs = r.windowSeconds * 1000;
    this.#percentBp = Math.round(r.percent * 100);
  }

  check(t: Trade): PriceMoveDetails | null {
    let w = this.#tickers.get(t.ticker);
    if (w === undefined) {
      w = { times: [], prices: [], head: 0, crossing: false };
      this.#tickers.set(t.ticker, w);
    }
    w.times.push(t.tsMs);
    w.prices.push(t.priceE4);
    const from = t.tsMs - this.#windowMs;
    while (w.times[w.head]! < from) w.head++;
    if (w.head > 1024 && w.head * 2 > w.times.length) {
      w.times.splice(0, w.head);
      w.prices.splice(0, w.head);
      w.head = 0;
    }
    const ref = w.prices[w.head]!;
    // |p − ref| / ref > percent/100  ⇔  |p − ref|·10^4 > percent·100·ref (below 2^53: p < 10^10)
    const crossing = Math.abs(t.priceE4 - ref) * 10_000 > this.#percentBp * ref;
    const fire = crossing && !w.crossing;
    w.crossing = crossing;
    return fire ? { kind: 'price_move', referencePriceE4: ref, changeBp: changeBp(t.priceE4, ref), windowSeconds: this.#windowSeconds } : null;
  }

  tickers(): Iterable<string> {
    return this.#tickers.keys();
  }

  exportTicker(ticker: string): PriceMoveState | undefined {
    const w = this.#tickers.get(ticker);
    if (w === undefined) return undefined;
    const window: Array<[number, number]> = [];
    for (let i = w.head; i < w.times.length; i++) window.push([w.times[i]!, w.prices[i]!]);
    return { window, crossing: w.crossing };
  }

  restoreTicker(ticker: string, state: unknown): void {
    const s = state as PriceMoveState;
    this.#tickers.set(ticker, { times: s.window.map(([ts]) => ts), prices: s.window.map(([, p]) => p), head: 0, crossing: s.crossing });
  }

  forget(tickers: ReadonlySet<string>): void {
    for (const t of tickers) this.#tickers.delete(t);
  }
}

/**
 * The same in Flink SQL. The reference is the minimum over the RANGE frame [t − W, t] of one
 * number that orders by (event time, Kafka offset) and carries the price in its last ten digits,
 * so it is exact whatever order rows reach the operator in (FIRST_VALUE would follow that
 * order). The previous trade's crossing comes from a ROWS frame of two over the result.
 */
function priceMoveSql(r: PriceMoveRule, input: string, prefix: string): KindSql {
  const percentBp = Math.round(r.percent * 100);
  const byTime = 'PARTITION BY ticker ORDER BY event_time';
  const E10 = 'CAST(10000000000 AS DECIMAL(38, 0))';
  // Beyond BIGINT, so not a numeric literal in Flink SQL.
  const E22 = "CAST('10000000000000000000000' AS DECIMAL(38, 0))";
  const priceE4 = 'CAST(price * 10000 AS BIGINT)';
  // Epoch ms: Flink 1.20 casts no timestamp to a number, but extracts its epoch seconds and milliseconds.
  const tsMs = 'EXTRACT(EPOCH FROM event_time) * 1000 + EXTRACT(MILLISECOND FROM CAST(event_time AS TIMESTAMP(3)))';
  const num = '(price_e4 - ref_e4) * 10000';
  return {
    columns: ['reference_price', 'change_percent', 'window_seconds'],
    ddl: [
      `CREATE TEMPORARY VIEW ${prefix}_ref AS
SELECT trade_id, ticker, price, volume, event_time, ${priceE4} AS price_e4,
  CAST(MOD(MIN(order_key) OVER (${byTime} RANGE BETWEEN ${intervalMs(r.windowSeconds * 1000)} PRECEDING AND CURRENT ROW), ${E10}) AS BIGINT) AS ref_e4
FROM (
  SELECT trade_id, ticker, price, volume, event_time,
    CAST(${tsMs} AS DECIMAL(38, 0)) * ${E22} + CAST(source_offset AS DECIMAL(38, 0)) * ${E10} + CAST(${priceE4} AS DECIMAL(38, 0)) AS order_key
  FROM ${input}
)`,
      `CREATE TEMPORARY VIEW ${prefix}_crossing AS
SELECT trade_id, ticker, price, volume, event_time, price_e4, ref_e4,
  CASE WHEN ABS(price_e4 - ref_e4) * 10000 > CAST(${percentBp} AS BIGINT) * ref_e4 THEN 1 ELSE 0 END AS crossing
FROM ${prefix}_ref`,
      `CREATE TEMPORARY VIEW ${prefix}_moves AS
SELECT trade_id, ticker, price, volume, event_time, price_e4, ref_e4 FROM (
  SELECT trade_id, ticker, price, volume, event_time, price_e4, ref_e4, crossing,
    SUM(crossing) OVER (${byTime} ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) - crossing AS prev_crossing
  FROM ${prefix}_crossing
) WHERE crossing = 1 AND prev_crossing = 0`,
    ],
    // change in basis points, half away from zero: sign · (|n| / ref + (2·(|n| mod ref) ≥ ref))
    hits: `SELECT trade_id, ticker, price, volume, event_time,
  CAST(CAST(ref_e4 AS DECIMAL(20, 0)) / 10000 AS DECIMAL(10, 4)) AS reference_price,
  CAST(CAST(SIGN(${num}) * (ABS(${num}) / ref_e4 + CASE WHEN 2 * MOD(ABS(${num}), ref_e4) >= ref_e4 THEN 1 ELSE 0 END) AS DECIMAL(20, 0)) / 100 AS DECIMAL(10, 2)) AS change_percent,
  CAST(${r.windowSeconds} AS INT) AS window_seconds
FROM ${prefix}_moves`,
  };
}
