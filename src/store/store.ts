import type { EngineOutput } from '../engine/records.ts';

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

export interface Store extends SqlClient {
  readonly kind: 'pglite' | 'postgres';
  /** Where the data lives, without credentials. */
  readonly location: string;
  migrate(): Promise<void>;
  /** One transaction: everything in `out` is stored, or nothing is. */
  write(out: EngineOutput): Promise<WriteResult>;
  close(): Promise<void>;
}

export function isEmptyOutput(out: EngineOutput): boolean {
  return out.trades.length + out.alerts.length + out.candles.length + out.deadLetters.length === 0;
}
