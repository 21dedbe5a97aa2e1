import { type EngineOutput, tradeCount } from '../engine/records.ts';
import { TickflowError } from '../tickflow-error.ts';

/** Rows that were new in a write (replays and identical candles count zero). */
export interface WriteResult {
  trades: number;
  alerts: number;
  candles: number;
  deadLetters: number;
}

/** The smallest SQL surface the migrations, queries and API need, on either backend. */
export interface SqlClient {
  query<T extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface SqlStatement {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/**
 * The end of a write that must commit in order after the previous one (a checkpoint names a
 * position in the input: committing it before the batches it covers would skip them after a
 * crash).
 */
export interface CommitStep {
  /** Settles once the previous batch committed; this one does not commit before. */
  readonly after: Promise<unknown>;
  /** Run inside the transaction once `after` resolved; its statements run last (the checkpoint). */
  readonly epilogue: () => Promise<readonly SqlStatement[]>;
}

export async function predecessorCommitted(after: Promise<unknown>): Promise<void> {
  await after.catch((e: unknown) => {
    throw new TickflowError('db_batch_failed', `an earlier batch failed: ${(e as Error).message}`, { cause: e });
  });
}

export interface Store extends SqlClient {
  readonly kind: 'pglite' | 'postgres';
  /** Where the data lives, without credentials. */
  readonly location: string;
  migrate(): Promise<void>;
  /**
   * Exclusive claims on named things across processes sharing this database (PostgreSQL
   * advisory locks held by one session; gone if the process dies). Null where a database
   * belongs to one process anyway (PGlite).
   */
  readonly claims: Claims | null;
  /** One transaction: everything in `out` (and `step`'s statements) is stored, or nothing is. */
  write(out: EngineOutput, step?: CommitStep): Promise<WriteResult>;
  close(): Promise<void>;
}

export interface Claims {
  /**
   * Waits until no other process holds (scope, n), then holds it; false as soon as `wanted`
   * says the claim is no longer wanted. `onWaiting` is told once when it is not free at once.
   */
  claim(scope: string, n: number, o?: { wanted?: () => boolean; onWaiting?: () => void }): Promise<boolean>;
  release(scope: string, n: number): Promise<void>;
}

export function isEmptyOutput(out: EngineOutput): boolean {
  return tradeCount(out) + out.alerts.length + out.candles.length + out.deadLetters.length === 0;
}
