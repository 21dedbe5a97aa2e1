import type { EngineOutput, RawRecord } from '../engine/records.ts';
import type { SqlStatement, Store, WriteResult } from '../store/store.ts';
import type { RunSummary, RunTotals } from './run-pipeline.ts';

/** What a participant may use of the run it takes part in (handed to `start`). */
export interface RunContext {
  readonly store: Store;
  readonly totals: RunTotals;
  summary(): RunSummary;
  /**
   * Drains the engine and resolves once that output and every batch before it are committed
   * and reported: for work that must hand over a consistent point mid-run (a Kafka rebalance).
   */
  settle(): Promise<void>;
}

/**
 * Something that takes part in a run beside its source, engine and store: checkpoints, Kafka
 * publishing, the live feed. Every hook is optional; the run calls them in the order of its
 * participant list. Teardown is not a hook: whoever creates a participant disposes of it
 * (`await using`), after the run.
 */
export interface RunParticipant {
  /** Before the first record. */
  start?(run: RunContext): void | Promise<void>;
  /** Awaited before a batch of records reaches the engine. */
  beforeBatch?(records: readonly RawRecord[]): Promise<void>;
  /** Right after the engine processed a batch (synchronously: no drain in between). */
  afterBatch?(records: readonly RawRecord[]): void;
  /**
   * Right after a drain that has output, with the engine in the state that output leaves it
   * in. Work started here overlaps the batch's write; the returned function is awaited inside
   * its transaction, and its statements run last (a checkpoint). With any participant that has
   * this hook, transactions commit strictly in batch order.
   */
  afterDrain?(out: EngineOutput): () => Promise<readonly SqlStatement[]>;
  /** After each committed transaction, in batch order. */
  onCommitted?(out: EngineOutput, result: WriteResult, writeMs: number): void | Promise<void>;
  /** The engine is about to close every open window because the input ended (not on a pause). */
  beforeFinish?(): void;
  /** A write failed on a transient database error and is retried (the run waits out an outage). */
  onWriteRetry?(attempt: number, delayMs: number, error: unknown): void;
  /** A write succeeded after an outage of this many milliseconds. */
  onWriteRecovered?(outageMs: number): void;
  /** After a clean end: every batch stored. */
  finish?(): void | Promise<void>;
}
