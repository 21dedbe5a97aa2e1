import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import type { EngineOutput } from '../engine/records.ts';
import { applyMigrations } from './migrate.ts';
import type { Store, WriteResult } from './store.ts';
import { OutputWriter, isUniqueViolation, type WriteTx } from './write-output.ts';

type Sql = postgres.Sql<Record<string, never>>;
type TxSql = postgres.TransactionSql<Record<string, never>>;

/** A PostgreSQL server through postgres.js: COPY for the hot table, unnest arrays for the rest. */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly location: string;
  readonly #sql: Sql;
  readonly #writer = new OutputWriter();

  constructor(url: string, options: { max?: number; connectTimeoutS?: number } = {}) {
    this.location = redactUrl(url);
    this.#sql = postgres(url, {
      max: options.max ?? 4,
      connect_timeout: options.connectTimeoutS ?? 10,
      onnotice: () => {},
      // Timestamps and numerics come back as text: exact, and the same on both backends.
      types: {},
      transform: { undefined: null },
    });
  }

  async query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const rows = await this.#sql.unsafe(sql, params as postgres.ParameterOrJSON<never>[]);
    return rows as unknown as T[];
  }

  async migrate(): Promise<void> {
    await applyMigrations((fn) =>
      this.#sql.begin(async (tx) => {
        await fn(async (q, params) => (await tx.unsafe(q, (params ?? []) as never[])) as unknown as Record<string, unknown>[]);
      }) as Promise<void>,
    );
  }

  async write(out: EngineOutput): Promise<WriteResult> {
    return (await this.#sql.begin((tx) => this.#writer.write(txOps(tx), out))) as WriteResult;
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: 5 });
  }
}

function txOps(tx: TxSql): WriteTx {
  return {
    async run(q, params = []) {
      const r = await tx.unsafe(q, params as never[]);
      return r.count;
    },
    async copyIn(target, text) {
      const stream = await tx.unsafe(`COPY ${target} FROM STDIN`).writable();
      await pipeline(Readable.from([text]), stream);
    },
    async tryUnique(fn) {
      try {
        await tx.savepoint(async () => {
          await fn();
        });
        return true;
      } catch (e) {
        if (isUniqueViolation(e)) return false;
        throw e;
      }
    },
  };
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable database URL)';
  }
}
