import postgres from 'postgres';
import { createDatabase } from '../store/create-database.ts';
import { redactUrl } from '../store/db-url.ts';
import { stackError } from './stack-error.ts';

export const tickflowDatabase = 'tickflow';

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * The stack does not own PostgreSQL; it checks that DATABASE_URL answers and that the
 * `tickflow` database exists on that server (creating it when missing).
 * Returns the URL of the tickflow database and the server version.
 */
export async function ensureTickflowDatabase(url: string, timeoutMs = 10_000): Promise<{ url: string; serverVersion: string; created: boolean }> {
  const connect = (target: string) =>
    postgres(target, { max: 1, connect_timeout: Math.max(1, Math.round(timeoutMs / 1000)), idle_timeout: 1, onnotice: () => {} });
  let sql = connect(url);
  try {
    let version: string;
    try {
      version = (await sql`show server_version`)[0]!.server_version as string;
    } catch (error) {
      // DATABASE_URL may already name the tickflow database, which we are here to create.
      if ((error as { code?: string }).code !== '3D000') throw error;
      await sql.end({ timeout: 1 });
      sql = connect(withDatabase(url, 'postgres'));
      version = (await sql`show server_version`)[0]!.server_version as string;
    }
    const exists = await sql`select 1 from pg_database where datname = ${tickflowDatabase}`;
    let created = false;
    if (exists.length === 0) {
      try {
        await createDatabase(sql, tickflowDatabase);
        created = true;
      } catch (error) {
        // Two `up`s at once: the other one created it first.
        if ((error as { code?: string }).code !== '42P04') throw error;
      }
    }
    return { url: withDatabase(url, tickflowDatabase), serverVersion: version, created };
  } catch (error) {
    const e = error as { code?: string; message?: string };
    const where = redactUrl(url);
    if (e.code === 'ECONNREFUSED' || e.code === 'CONNECT_TIMEOUT' || e.code === 'ENOTFOUND' || e.code === 'EHOSTUNREACH') {
      throw stackError(
        `PostgreSQL is not answering at ${where} (${e.code}): start it, point DATABASE_URL / --database-url at a running server, or pass --no-postgres`,
      );
    }
    throw stackError(`PostgreSQL at ${where}: ${e.message ?? String(error)}`);
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}
