import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { createDatabase } from '../../src/store/create-database.ts';
import { openStore } from '../../src/store/open-store.ts';
import { ACTUAL_QUERIES } from './oracle.ts';

/** The server tests use: DATABASE_URL's, or the machine's local PostgreSQL. */
export function serverUrl(): string {
  return process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
}

/** A new, empty database for one test file; `drop()` removes it. */
export async function freshDatabase(prefix = 'tickflow_test'): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = postgres(serverUrl(), { max: 1, onnotice: () => {} });
  // As tickflow creates one (the collation), so that what tests and benches measure is what runs.
  await createDatabase(admin, name);
  await admin.end();
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const a = postgres(serverUrl(), { max: 1, onnotice: () => {} });
      await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/**
 * The four tables in the oracle's text form, and `rejected`: each dead letter by what was
 * rejected (reason code + raw bytes), for inputs whose positions differ by path (a file's line
 * numbers, a topic's partition/offset).
 */
export const TABLE_QUERIES = {
  ...ACTUAL_QUERIES,
  rejected: `SELECT reason_code || '|' || translate(encode(raw, 'base64'), E'\\n', '') AS row FROM dead_letters`,
} as const;

/**
 * Reads tables of any database tickflow writes (postgres://…, pglite:DIR) as sorted text rows,
 * one list per query: by default TABLE_QUERIES. Nothing is migrated: the writer's schema is read.
 */
export async function readTables<Q extends Record<string, string> = typeof TABLE_QUERIES>(
  db: string,
  queries: Q = TABLE_QUERIES as unknown as Q,
): Promise<Record<keyof Q, string[]>> {
  const store = await openStore(db, { migrate: false });
  try {
    const out = {} as Record<keyof Q, string[]>;
    for (const [k, q] of Object.entries(queries)) out[k as keyof Q] = (await store.query<{ row: string }>(q)).map((r) => r.row).sort();
    return out;
  } finally {
    await store.close();
  }
}

/** Rows in a table now; 0 while the table does not exist yet (a consumer still starting). */
export async function countRows(db: string, table: string): Promise<number> {
  const store = await openStore(db, { migrate: false });
  try {
    const [row] = await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    return row!.n;
  } catch (e) {
    if (/does not exist/.test((e as Error).message)) return 0;
    throw e;
  } finally {
    await store.close();
  }
}
