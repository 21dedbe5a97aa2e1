import { MIGRATIONS, MIGRATIONS_TABLE } from './migrations.ts';

/** Runs a function inside one transaction on a backend; the callback gets a query function. */
export type InTransaction = (fn: (query: (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>) => Promise<void>) => Promise<void>;

/** Advisory lock id so two processes starting at once do not race on the schema. */
const MIGRATION_LOCK = 0x7469636b; // "tick"

export async function applyMigrations(inTransaction: InTransaction): Promise<number[]> {
  const applied: number[] = [];
  await inTransaction(async (query) => {
    await query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await query(MIGRATIONS_TABLE);
    const done = new Set((await query('SELECT version FROM tickflow_migrations')).map((r) => Number(r.version)));
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await query(m.sql);
      await query('INSERT INTO tickflow_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
  });
  return applied;
}
