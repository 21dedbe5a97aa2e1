import type { EngineOutput } from '../engine/records.ts';
import { INSERT_ALERTS_SQL, INSERT_DEAD_LETTERS_SQL, TRADE_COLUMNS, UPSERT_CANDLES_SQL, alertParams, candleParams, deadLetterParams } from './rows.ts';
import type { WriteResult } from './store.ts';
import { tradesToCopyBinary } from './trade-copy-binary.ts';

/** What a backend must offer inside an open transaction. */
export interface WriteTx {
  /** A parameterized statement; resolves to the number of rows it changed. */
  run(sql: string, params?: unknown[]): Promise<number>;
  /** COPY … FROM STDIN (or PGlite's /dev/blob) of binary COPY data into `table (columns)`. */
  copyIn(target: string, rows: Uint8Array): Promise<void>;
  /**
   * Run `fn` under a savepoint. A unique violation (or a COPY failure the driver cannot
   * explain) rolls back to it and resolves false; any other error propagates.
   */
  tryUnique(fn: (inner: WriteTx) => Promise<void>): Promise<boolean>;
}

const STAGE_TABLE = 'tickflow_stage_trades';

/**
 * Writes trades with the fastest path that is still idempotent: COPY straight into
 * stock_trades, which is as fast as PostgreSQL ingests; if the batch holds a trade_id already
 * stored (a replay after a crash), that COPY is rolled back and the batch goes through a
 * temp staging table and INSERT … ON CONFLICT DO NOTHING. After a conflict the staging path
 * is used for a while, since replays come in runs.
 */
export class OutputWriter {
  #stagedBatchesLeft = 0;
  readonly #stagingAfterConflict: number;

  constructor(stagingAfterConflict = 20) {
    this.#stagingAfterConflict = stagingAfterConflict;
  }

  async write(tx: WriteTx, out: EngineOutput): Promise<WriteResult> {
    const result: WriteResult = { trades: 0, alerts: 0, candles: 0, deadLetters: 0 };
    if (out.trades.length > 0) result.trades = await this.#writeTrades(tx, tradesToCopyBinary(out.trades), out.trades.length);
    if (out.alerts.length > 0) result.alerts = await tx.run(INSERT_ALERTS_SQL, alertParams(out.alerts));
    if (out.candles.length > 0) result.candles = await tx.run(UPSERT_CANDLES_SQL, candleParams(out.candles));
    if (out.deadLetters.length > 0) result.deadLetters = await tx.run(INSERT_DEAD_LETTERS_SQL, deadLetterParams(out.deadLetters));
    return result;
  }

  async #writeTrades(tx: WriteTx, data: Uint8Array, rows: number): Promise<number> {
    if (this.#stagedBatchesLeft > 0) {
      this.#stagedBatchesLeft--;
    } else if (await tx.tryUnique((inner) => inner.copyIn(`stock_trades (${TRADE_COLUMNS})`, data))) {
      return rows;
    } else {
      this.#stagedBatchesLeft = this.#stagingAfterConflict;
    }
    await tx.run(`CREATE TEMP TABLE IF NOT EXISTS ${STAGE_TABLE} (LIKE stock_trades INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`);
    await tx.copyIn(`${STAGE_TABLE} (${TRADE_COLUMNS})`, data);
    return tx.run(`INSERT INTO stock_trades SELECT * FROM ${STAGE_TABLE} ON CONFLICT (trade_id) DO NOTHING`);
  }
}

export function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === '23505';
}
