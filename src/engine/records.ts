import type { RejectCode } from '../trade/parse.ts';
import type { Alert } from '../rules/alert.ts';
import type { Trade } from '../trade/trade.ts';

/** A record as a source hands it over: the raw value and where it came from. */
export interface RawRecord {
  readonly value: string | Uint8Array;
  /** Topic name, file path or "stdin". */
  readonly source: string;
  readonly partition: number;
  /** Kafka offset, or line number for files. */
  readonly offset: number;
  /**
   * The trade, when the source has already read the value with the fast decoder and the
   * engine's size limit (the Kafka source does, to merge partitions by event time); null when
   * the fast decoder declined it (the engine's reference parser decides). Absent: not read.
   */
  readonly decoded?: Trade | null;
}

/**
 * A record that is bytes [start, end) of a buffer holding a whole batch of them (the simulator
 * writes its lines so). The engine reads it in place; `value`, a view, is made only when asked
 * for (a dead letter, `tickflow simulate`): a typed-array view per record was a third of what a
 * simulated run allocated.
 */
export class BufferRangeRecord implements RawRecord {
  readonly buffer: Uint8Array;
  readonly start: number;
  readonly end: number;
  readonly source: string;
  readonly partition: number;
  readonly offset: number;

  constructor(buffer: Uint8Array, start: number, end: number, source: string, partition: number, offset: number) {
    this.buffer = buffer;
    this.start = start;
    this.end = end;
    this.source = source;
    this.partition = partition;
    this.offset = offset;
  }

  get value(): Uint8Array {
    return this.buffer.subarray(this.start, this.end);
  }
}

export interface DeadLetter {
  readonly source: string;
  readonly partition: number;
  readonly offset: number;
  readonly raw: string | Uint8Array;
  readonly code: RejectCode;
  readonly reason: string;
  readonly receivedAtMs: number;
}

export type { Alert } from '../rules/alert.ts';
export type { AlertKind } from '../rules/registry.ts';

export interface Candle {
  readonly ticker: string;
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  readonly openE4: number;
  readonly highE4: number;
  readonly lowE4: number;
  readonly closeE4: number;
  readonly volume: number;
  readonly vwapE4: number;
  readonly tradeCount: number;
}

/** What the engine produced since the last drain; the sink stores one of these per transaction. */
export interface EngineOutput {
  /** Accepted trades, in order, after those of `earlierTrades`. */
  trades: Trade[];
  /**
   * Accepted trades taken out of the engine before the drain (Engine#takeTrades), already in
   * the form the store writes them: a run encodes each batch of records' trades at once, so that
   * no trade object outlives its batch (run-pipeline.ts). Absent when nothing was taken early.
   */
  earlierTrades?: EncodedTrades;
  alerts: Alert[];
  candles: Candle[];
  deadLetters: DeadLetter[];
}

/** Trades as stock_trades rows: a whole binary COPY stream (src/store/trade-copy-binary.ts). */
export interface EncodedTrades {
  readonly count: number;
  readonly copy: Uint8Array;
}

export function emptyOutput(): EngineOutput {
  return { trades: [], alerts: [], candles: [], deadLetters: [] };
}

/** Accepted trades in an output, those taken early included. */
export function tradeCount(out: EngineOutput): number {
  return out.trades.length + (out.earlierTrades?.count ?? 0);
}
