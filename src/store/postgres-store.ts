import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import type { EngineOutput } from '../engine/records.ts';
import { redactUrl } from './db-url.ts';
import { noDelaySocket } from './no-delay-socket.ts';
import { encodeOutput } from './rows.ts';
import { applyMigrations } from './migrate.ts';
import { predecessorCommitted, type Claims, type CommitStep, type Store, type WriteResult } from './store.ts';
import { OutputWriter, isUniqueViolation, type WriteTx } from './write-output.ts';
import { TickflowError } from '../tickflow-error.ts';

/** The COPY failed for a reason postgres.js did not pass on; the staging path will surface it if it is real. */
const COPY_REFUSED = 'TICKFLOW_COPY_REFUSED';

type Sql = postgres.Sql<Record<string, never>>;
type TxSql = postgres.TransactionSql<Record<string, never>>;

/** A PostgreSQL server through postgres.js: COPY for the hot table, unnest arrays for the rest. */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly location: string;
  readonly #sql: Sql;
  readonly #writer = new OutputWriter();
  readonly claims: Claims;

  constructor(url: string, options: { max?: number; connectTimeoutS?: number } = {}) {
    this.location = redactUrl(url);
    const settings: postgres.Options<Record<string, never>> & { socket: typeof noDelaySocket } = {
      // Two transactions in flight, and room for queries beside them.
      max: options.max ?? 6,
      connect_timeout: options.connectTimeoutS ?? 10,
      onnotice: () => {},
      transform: { undefined: null },
      socket: noDelaySocket,
    };
    this.#sql = postgres(url, settings) as unknown as Sql;
    this.claims = new AdvisoryLocks(url);
  }

  async query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const rows = await this.#sql.unsafe(sql, params as postgres.ParameterOrJSON<never>[]);
    return rows as unknown as T[];
  }

  async migrate(): Promise<void> {
    await applyMigrations(
      (fn) =>
        this.#sql.begin(async (tx) => {
          await fn(async (q, params) => (await tx.unsafe(q, (params ?? []) as never[])) as unknown as Record<string, unknown>[]);
        }) as Promise<void>,
    );
  }

  async write(out: EngineOutput, step?: CommitStep): Promise<WriteResult> {
    const encoded = encodeOutput(out);
    return (await this.#sql.begin(async (tx) => {
      const result = await this.#writer.write(txOps(tx), encoded);
      if (step !== undefined) {
        // Data first, then wait: the previous transaction and this one touch different rows
        // until the checkpoint, so neither can wait on the other's locks.
        await predecessorCommitted(step.after);
        for (const s of await step.epilogue()) await tx.unsafe(s.sql, s.params as never[]);
      }
      return result;
    })) as WriteResult;
  }

  async close(): Promise<void> {
    await (this.claims as AdvisoryLocks).close();
    await this.#sql.end({ timeout: 5 });
  }
}

/**
 * Claims as session-level advisory locks on a connection of their own: they last until
 * released or until the session ends — a process killed with -9 loses its socket, and
 * PostgreSQL frees its locks at once; a host that vanishes is noticed through TCP keepalives
 * within about 25 s. Keyed by (hashtext(scope), n).
 *
 * A session lost to a database restart takes the locks with it. Each use notices a new session
 * (another backend pid) and takes the held locks again; one that another process took meanwhile
 * cannot be ours any more, and that is an error: the caller must stop, and a restart resumes
 * from the checkpoints.
 */
const TRY_LOCK_SQL = 'SELECT pg_try_advisory_lock(hashtext($1), $2) AS held, pg_backend_pid() AS pid';

class AdvisoryLocks implements Claims {
  readonly #url: string;
  #sql: Sql | null = null;
  readonly #held = new Map<string, { scope: string; n: number }>();
  #pid: number | null = null;

  constructor(url: string) {
    this.#url = url;
  }

  async claim(scope: string, n: number, o: { wanted?: () => boolean; onWaiting?: () => void } = {}): Promise<boolean> {
    // Polled rather than blocking, so the wait can end when the claim is no longer wanted.
    for (let wait = 25; ; wait = Math.min(2 * wait, 500)) {
      if (await this.#try(scope, n)) {
        this.#held.set(`${n}/${scope}`, { scope, n });
        return true;
      }
      if (o.wanted?.() === false) return false;
      if (wait === 25) o.onWaiting?.();
      await sleep(wait);
      if (o.wanted?.() === false) return false;
    }
  }

  async release(scope: string, n: number): Promise<void> {
    if (!this.#held.delete(`${n}/${scope}`) || this.#sql === null) return;
    const [row] = await this.#sql.unsafe('SELECT pg_advisory_unlock(hashtext($1), $2) AS released, pg_backend_pid() AS pid', [scope, n]);
    await this.#sameSession(Number(row!.pid));
  }

  async close(): Promise<void> {
    const sql = this.#sql;
    this.#sql = null;
    if (sql === null) return;
    await sql.unsafe('SELECT pg_advisory_unlock_all()').catch(() => {});
    await sql.end({ timeout: 5 });
  }

  async #try(scope: string, n: number): Promise<boolean> {
    const [row] = await this.#client().unsafe(TRY_LOCK_SQL, [scope, n]);
    await this.#sameSession(Number(row!.pid));
    return row!.held === true;
  }

  /** The session changed (the database restarted): take the held locks again, or fail. */
  async #sameSession(pid: number): Promise<void> {
    if (this.#pid === pid) return;
    const lost = this.#pid !== null;
    this.#pid = pid;
    if (!lost) return;
    for (const { scope, n } of this.#held.values()) {
      const [row] = await this.#client().unsafe(TRY_LOCK_SQL, [scope, n]);
      if (row!.held !== true || Number(row!.pid) !== pid) {
        throw new TickflowError(
          'db_claim_lost',
          `lost the database session holding the claim on ${scope} #${n}, and could not take it again (another process has it); stopping — a restart resumes from the checkpoints`,
        );
      }
    }
  }

  #client(): Sql {
    this.#sql ??= postgres(this.#url, {
      max: 1,
      onnotice: () => {},
      socket: noDelaySocket,
      // The server notices a vanished client (power loss, network cut) in ~25 s, not 2 h.
      connection: { application_name: 'tickflow claims', tcp_keepalives_idle: 10, tcp_keepalives_interval: 5, tcp_keepalives_count: 3 },
    } as postgres.Options<Record<string, never>>) as unknown as Sql;
    return this.#sql;
  }
}

function txOps(tx: TxSql): WriteTx {
  return {
    async run(q, params = []) {
      const r = await tx.unsafe(q, params as never[]);
      return r.count;
    },
    async copyIn(target, rows) {
      const stream = await tx.unsafe(`COPY ${target} FROM STDIN WITH (FORMAT binary)`).writable();
      // A connection lost mid-COPY destroys the stream with its error. Unheard, that error ended
      // the process; heard, it fails this write like any lost connection, and the run waits it out.
      let lost: unknown = null;
      stream.on('error', (e) => (lost ??= e));
      const chunk = Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength);
      await new Promise<void>((resolve, reject) => stream.write(chunk, (e) => (e ? reject(lost ?? e) : resolve())));
      if (lost !== null) throw lost;
      stream.end();
      for (let attempt = 0; ; attempt++) {
        // end() hands over to the driver's final step on a later tick; until then the
        // connection refuses other statements.
        await new Promise((r) => setImmediate(r));
        try {
          await tx.unsafe('SELECT 1');
          return;
        } catch (e) {
          const code = (e as { code?: string }).code;
          if (code === 'COPY_IN_PROGRESS' && attempt < 1000) continue;
          if (code === '25P02') throw Object.assign(new Error('COPY was refused'), { code: COPY_REFUSED });
          throw e;
        }
      }
    },
    async tryUnique(fn) {
      try {
        // Statements inside must run on the savepoint's own handle: a failure seen by the outer
        // transaction's handle would fail the whole transaction at commit.
        await tx.savepoint(async (sp) => {
          await fn(txOps(sp));
        });
        return true;
      } catch (e) {
        // The savepoint was rolled back: the staging path redoes the batch safely (and reports
        // a real data error if there is one).
        const code = (e as { code?: string }).code;
        if (isUniqueViolation(e) || code === COPY_REFUSED || code === 'COPY_IN_PROGRESS') return false;
        throw e;
      }
    },
  };
}
