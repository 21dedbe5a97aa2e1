/**
 * What PGliteStore (pglite-store.ts) asks of PGlite, and PGlite's side of it: on the caller's
 * thread, or on a thread of its own (pglite-worker.ts). A batch's whole transaction is one
 * request (`write`: the encoded rows and the statements to run last), so on its own thread
 * PGlite never waits for the busy engine thread in the middle of one.
 */
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { applyMigrations } from './migrate.ts';
import { openPGlite, type PGliteTuning } from './pglite-open.ts';
import type { SqlStatement } from './store.ts';
import { type EncodedOutput, OutputWriter, type WriteTx, isUniqueViolation } from './write-output.ts';

export type PGliteRequest =
  | { op: 'open'; dir: string | null; tuning: PGliteTuning }
  | { op: 'query'; sql: string; params: unknown[] }
  | { op: 'migrate' }
  | { op: 'write'; out: EncodedOutput; last: readonly SqlStatement[] }
  | { op: 'close' };

/** A request to PGlite's thread, and its answer, matched by `id`. */
export interface PGliteMessage {
  id: number;
  request: PGliteRequest;
}
export type PGliteResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WorkerError };

/**
 * An error as it crosses back from PGlite's thread: a thrown Error loses its fields in
 * postMessage, and PostgreSQL's SQLSTATE (`code`) is what callers test (a unique violation, a
 * transient failure).
 */
export interface WorkerError {
  message: string;
  code?: string;
}

/** One PGlite database, driven by requests. */
export class PGliteHandler {
  #db: PGlite | null = null;
  readonly #writer = new OutputWriter();

  async handle(r: PGliteRequest): Promise<unknown> {
    if (r.op === 'open') {
      this.#db = await openPGlite(r.dir, r.tuning);
      return null;
    }
    const pg = this.#db;
    if (pg === null) throw new Error('the embedded database is not open');
    switch (r.op) {
      case 'query': {
        // A statement with no parameters and a ';' is a script: the last statement's rows.
        if (r.params.length === 0 && r.sql.includes(';')) return (await pg.exec(r.sql)).at(-1)?.rows ?? [];
        return (await pg.query(r.sql, r.params)).rows;
      }
      case 'migrate':
        return applyMigrations((fn) => pg.transaction((tx) => fn(async (q, params) => (await run(tx, q, params ?? [])).rows)));
      case 'write':
        return pg.transaction(async (tx) => {
          const result = await this.#writer.write(txOps(tx), r.out);
          for (const s of r.last) await run(tx, s.sql, [...s.params]);
          return result;
        });
      case 'close':
        if (!pg.closed) await pg.close();
        return null;
    }
  }
}

/** Inside a transaction a statement without parameters goes by the simple protocol (SAVEPOINT, DDL, scripts). */
async function run(tx: Transaction, sql: string, params: unknown[]): Promise<{ rows: Record<string, unknown>[]; affected: number }> {
  const r = params.length === 0 ? (await tx.exec(sql)).at(-1) : await tx.query<Record<string, unknown>>(sql, params);
  return { rows: (r?.rows ?? []) as Record<string, unknown>[], affected: r?.affectedRows ?? 0 };
}

function txOps(tx: Transaction): WriteTx {
  const ops: WriteTx = {
    async run(sql, params = []) {
      return (await run(tx, sql, params)).affected;
    },
    async copyIn(target, rows) {
      await tx.query(`COPY ${target} FROM '/dev/blob' WITH (FORMAT binary)`, [], { blob: inPlace(rows) });
    },
    async tryUnique(fn) {
      await tx.exec('SAVEPOINT tickflow_copy');
      try {
        await fn(ops);
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        await tx.exec('ROLLBACK TO SAVEPOINT tickflow_copy');
        return false;
      }
      await tx.exec('RELEASE SAVEPOINT tickflow_copy');
      return true;
    },
  };
  return ops;
}

/**
 * The rows as the Blob PGlite asks for, without copying them: PGlite only calls the Blob's
 * `arrayBuffer()` and reads its bytes (`new Blob([rows])` and `arrayBuffer()` made two copies of
 * every batch on PGlite's busy thread, garbage until its next collection). The buffer must be
 * exactly the stream: PGlite reads all of it.
 */
function inPlace(rows: Uint8Array): Blob {
  const whole = rows.byteOffset === 0 && rows.byteLength === rows.buffer.byteLength ? (rows.buffer as ArrayBuffer) : rows.slice().buffer;
  return { arrayBuffer: async () => whole } as Blob;
}

/** What crosses back of an error: its message and PostgreSQL's SQLSTATE, the field callers test. */
export function toWorkerError(e: unknown): WorkerError {
  const err = e as { message?: unknown; code?: unknown } | null;
  const message = typeof err?.message === 'string' ? err.message : String(e);
  return typeof err?.code === 'string' ? { message, code: err.code } : { message };
}
