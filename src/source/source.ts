import type { RawRecord } from '../engine/records.ts';

/**
 * Where records come from. Batches keep the per-record cost of async iteration low; a consumer
 * that stops pulling (a slow sink) stops the source: that is the backpressure.
 */
export interface Source {
  readonly description: string;
  batches(signal: AbortSignal): AsyncIterable<RawRecord[]>;
  /**
   * Partitions that have records not handed over yet (buffered, or still on a broker), or 'all'
   * when the source cannot tell (reconnecting): the engine does not judge them idle. Absent: a
   * source that hands over what it has.
   */
  busyPartitions?(): Iterable<number> | 'all';
  /**
   * At most how many records `eventMs` of event time can hold, for a source that sets its own
   * pace (the simulator): the engine sizes its dedupe window for it up front. Absent: unknown.
   */
  idsWithin?(eventMs: number): number;
}
