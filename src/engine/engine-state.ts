import type { RuleTickerState } from '../rules/rule-set.ts';
import type { Trade } from '../trade/trade.ts';

/**
 * The engine's state as plain JSON, split by ticker: what a checkpoint stores so a restarted
 * consumer goes on exactly where the last committed transaction left it. Split by ticker
 * because a Kafka partition owns its tickers (key = ticker), so each partition's share of the
 * state can move to another group member on its own.
 *
 * Trades waiting for the watermark are not copied: they are already in stock_trades (every
 * accepted trade is stored in the transaction that drains it), and they are exactly the
 * ticker's stored trades with an event time above the watermark — a trade that late would have
 * been late, never queued. Only the order of those sharing an event time (arrival order) is
 * not in the table; `ties` keeps it.
 */
export interface CandleState {
  windowStartMs: number;
  openE4: number;
  highE4: number;
  lowE4: number;
  closeE4: number;
  volume: number;
  /** Σ price·volume × 10^4, as a decimal string (it can pass 2^53). */
  notionalE4: string;
  tradeCount: number;
}

export interface TickerState {
  /** Windows still open for the ticker. */
  candles: CandleState[];
  /** Each rule's state for the ticker, by rule name (rules that keep none are absent). */
  rules?: Record<string, RuleTickerState>;
  /** Trades accepted but not yet released to the rules that take trades in event-time order (event time above the watermark). */
  pending: number;
  /** Trade ids of pending trades sharing one event time, in arrival order, one list per event time. */
  ties: string[][];
}

export interface EngineState {
  /**
   * Newest event time seen (in a checkpoint row: on that partition; rows written before
   * per-partition watermarks hold the member's newest); null before any.
   */
  maxEventTimeMs: number | null;
  /**
   * The engine's watermark: windows are closed and trades released up to it. Absent in rows
   * written before per-partition watermarks, where it was maxEventTimeMs − out-of-orderness.
   */
  watermarkMs?: number | null;
  /**
   * Per partition (the engine's whole state; not in a checkpoint row): its newest event time, and
   * the watermark its tickers' windows were closed and trades released up to — the engine's, or
   * above it after a restore pulled the engine's back (watermark.ts, restorePartition).
   */
  partitions?: Record<number, { maxEventTimeMs: number | null; watermarkMs: number | null }>;
  tickers: Record<string, TickerState>;
  /**
   * Each rule's fingerprint (rule-set.ts) when the state was taken: a rule's state is restored
   * only into the same definition.
   */
  rules?: Record<string, string>;
}

/**
 * The watermark a state was taken at. Null is -∞: the engine's watermark had not started (a
 * partition had delivered nothing yet), so every trade of the state was still waiting — not
 * "unknown": taking maxEventTimeMs − bound then would leave the waiting trades below it out of
 * the read-back. Only rows written before per-partition watermarks lack the field.
 */
export function checkpointWatermark(state: EngineState, outOfOrdernessMs: number): number {
  if (state.watermarkMs === null) return Number.NEGATIVE_INFINITY;
  if (state.watermarkMs !== undefined) return state.watermarkMs;
  return state.maxEventTimeMs === null ? Number.NEGATIVE_INFINITY : state.maxEventTimeMs - outOfOrdernessMs;
}

export function emptyTickerState(): TickerState {
  return { candles: [], pending: 0, ties: [] };
}

/**
 * Pending trades read back from the table, in the order the engine released them: event time,
 * then arrival order where a ticker has several at one event time. The order across tickers at
 * one event time does not matter (rule state is per ticker); ticker order keeps it stable.
 */
export function orderPending(trades: readonly Trade[], ties: readonly (readonly string[])[]): Trade[] {
  const rank = new Map<string, number>();
  for (const list of ties) {
    for (const [i, id] of list.entries()) rank.set(id, i);
  }
  return [...trades].sort(
    (a, b) => a.tsMs - b.tsMs || (a.ticker < b.ticker ? -1 : a.ticker > b.ticker ? 1 : 0) || (rank.get(a.tradeId) ?? 0) - (rank.get(b.tradeId) ?? 0),
  );
}
