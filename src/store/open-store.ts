import { resolve } from 'node:path';
import { createDatabase } from './create-database.ts';
import { redactUrl } from './db-url.ts';
import type { PGliteTuning } from './pglite-open.ts';
import { PGliteStore } from './pglite-store.ts';
import type { Store } from './store.ts';
import { isTickflowError, TickflowError } from '../tickflow-error.ts';

export const DEFAULT_DB = 'pglite:./.tickflow/pgdata';

export type DbTarget = { kind: 'postgres'; url: string } | { kind: 'pglite'; dir: string | null };

/** postgres://… | postgresql://… | pglite:DIR | pglite:memory | memory */
export function parseDbTarget(db: string): DbTarget {
  if (db.startsWith('postgres://') || db.startsWith('postgresql://')) {
    try {
      new URL(db);
    } catch {
      throw new TickflowError('bad_config', `--db: "${redactUrl(db)}" is not a valid PostgreSQL URL`);
    }
    return { kind: 'postgres', url: db };
  }
  if (db === 'memory' || db === 'pglite:memory') return { kind: 'pglite', dir: null };
  if (db.startsWith('pglite:')) {
    const dir = db.slice('pglite:'.length);
    if (dir.length === 0) throw new TickflowError('bad_config', '--db: pglite: needs a directory, e.g. pglite:./.tickflow/pgdata');
    return { kind: 'pglite', dir: resolve(dir) };
  }
  throw new TickflowError('bad_config', `--db: "${db.slice(0, 60)}" is not a database; use postgres://user@host:5432/db, pglite:DIR or memory`);
}

/**
 * Open, check it answers, and migrate. Failures a user can fix are TickflowErrors (db_unavailable,
 * db_in_use). `pglite`: how an embedded database is run (pglite-open.ts; `footprint` unless said).
 */
export async function openStore(db: string, options: { migrate?: boolean; pglite?: PGliteTuning } = {}): Promise<Store> {
  const target = parseDbTarget(db);
  let store: Store;
  if (target.kind === 'pglite') {
    try {
      store = await PGliteStore.open(target.dir, options.pglite);
    } catch (e) {
      if (isTickflowError(e, 'db_in_use')) throw e;
      throw new TickflowError('db_unavailable', `cannot open embedded database at ${target.dir ?? '(memory)'}: ${(e as Error).message}`);
    }
  } else {
    await ensurePostgresDatabase(target.url);
    // The PostgreSQL driver is loaded only when a run writes to a server: an embedded run
    // (npm start) does not carry it.
    const { PostgresStore } = await import('./postgres-store.ts');
    store = new PostgresStore(target.url);
    try {
      await store.query('SELECT 1');
    } catch (e) {
      await store.close().catch(() => {});
      throw new TickflowError('db_unavailable', describePgError(target.url, e));
    }
  }
  if (options.migrate !== false) await store.migrate();
  return store;
}

/** Create the named database if the server answers but it does not exist yet. */
async function ensurePostgresDatabase(url: string): Promise<void> {
  const { default: postgres } = await import('postgres');
  const probe = postgres(url, { max: 1, connect_timeout: 10, onnotice: () => {} });
  try {
    await probe`SELECT 1`;
  } catch (e) {
    if ((e as { code?: string }).code !== '3D000') throw new TickflowError('db_unavailable', describePgError(url, e));
    const u = new URL(url);
    const name = decodeURIComponent(u.pathname.slice(1));
    u.pathname = '/postgres';
    const admin = postgres(u.toString(), { max: 1, connect_timeout: 10, onnotice: () => {} });
    try {
      await createDatabase(admin, name);
      process.stderr.write(`tickflow: created database "${name}"\n`);
    } catch (e2) {
      if ((e2 as { code?: string }).code !== '42P04') throw new TickflowError('db_unavailable', describePgError(url, e2));
    } finally {
      await admin.end({ timeout: 2 });
    }
  } finally {
    await probe.end({ timeout: 2 });
  }
}

export function describePgError(url: string, e: unknown): string {
  const err = e as { code?: string; message?: string };
  const where = redactUrl(url);
  if (err.code === 'ECONNREFUSED') return `cannot reach PostgreSQL at ${where}: connection refused (is it running?)`;
  if (err.code === 'ENOTFOUND') return `cannot reach PostgreSQL at ${where}: host not found`;
  if (err.code === 'CONNECT_TIMEOUT') return `cannot reach PostgreSQL at ${where}: connection timed out`;
  if (err.code === '28P01' || err.code === '28000') return `PostgreSQL at ${where} refused the credentials: ${err.message}`;
  return `PostgreSQL at ${where}: ${err.message ?? String(e)}`;
}
