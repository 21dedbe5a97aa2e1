import { ALERT_DETAIL_COLUMNS, DETAIL_COLUMN_NAMES } from '../rules/alert-columns.ts';
import type { WriteResult } from './store.ts';

/**
 * How a batch is written, on either backend. This module is loaded by PGlite's thread too
 * (pglite-worker.ts), so it takes the batch already encoded (rows.ts) and imports no engine
 * or rule code.
 */

/** A batch's rows, encoded by rows.ts: null where the batch has none of a kind. */
export interface EncodedOutput {
  /** stock_trades rows in binary COPY format. */
  trades: Uint8Array | null;
  tradeCount: number;
  alerts: unknown[][] | null;
  candles: unknown[][] | null;
  deadLetters: unknown[][] | null;
}

export const TRADE_COLUMNS = 'trade_id, ticker, price, volume, trade_timestamp';

export const ALERT_COLUMNS = [
  'alert_id',
  'kind',
  'rule',
  'severity',
  'trade_id',
  'ticker',
  'price',
  'volume',
  'trade_timestamp',
  ...DETAIL_COLUMN_NAMES,
  'detected_at',
  'message',
];
const ALERT_TYPES = [
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'numeric',
  'int',
  'timestamptz',
  ...DETAIL_COLUMN_NAMES.map((c) => (ALERT_DETAIL_COLUMNS[c].table === 'BIGINT' ? 'bigint' : ALERT_DETAIL_COLUMNS[c].table === 'INT' ? 'int' : 'numeric')),
  'timestamptz',
  'text',
];

const ALERT_COLUMN_LIST = ALERT_COLUMNS.join(', ');
const ALERT_ARRAYS = ALERT_TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ');

export const INSERT_ALERTS_SQL = `
INSERT INTO trade_alerts (${ALERT_COLUMN_LIST})
SELECT * FROM unnest(${ALERT_ARRAYS})
ON CONFLICT (alert_id) DO NOTHING`;

/** Re-emitting an identical candle (a replayed file) changes nothing and counts as nothing. */
export const UPSERT_CANDLES_SQL = `
INSERT INTO trade_candles AS c (ticker, window_start, window_end, open, high, low, close, volume, vwap, trade_count)
SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::numeric[], $5::numeric[], $6::numeric[],
                     $7::numeric[], $8::bigint[], $9::numeric[], $10::int[])
ON CONFLICT (ticker, window_start) DO UPDATE SET
  window_end = EXCLUDED.window_end, open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
  close = EXCLUDED.close, volume = EXCLUDED.volume, vwap = EXCLUDED.vwap, trade_count = EXCLUDED.trade_count
WHERE (c.window_end, c.open, c.high, c.low, c.close, c.volume, c.vwap, c.trade_count)
  IS DISTINCT FROM (EXCLUDED.window_end, EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close,
                    EXCLUDED.volume, EXCLUDED.vwap, EXCLUDED.trade_count)`;

export const INSERT_DEAD_LETTERS_SQL = `
INSERT INTO dead_letters (received_at, reason_code, reason, raw, source, source_partition, source_offset)
SELECT r, c, m, decode(b, 'base64'), s, p, o
FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::bigint[]) AS u(r, c, m, b, s, p, o)
ON CONFLICT (source, source_partition, source_offset) DO NOTHING`;

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

  async write(tx: WriteTx, out: EncodedOutput): Promise<WriteResult> {
    const result: WriteResult = { trades: 0, alerts: 0, candles: 0, deadLetters: 0 };
    if (out.trades !== null) result.trades = await this.#writeTrades(tx, out.trades, out.tradeCount);
    if (out.alerts !== null) result.alerts = await tx.run(INSERT_ALERTS_SQL, out.alerts);
    if (out.candles !== null) result.candles = await tx.run(UPSERT_CANDLES_SQL, out.candles);
    if (out.deadLetters !== null) result.deadLetters = await tx.run(INSERT_DEAD_LETTERS_SQL, out.deadLetters);
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
