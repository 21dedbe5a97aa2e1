/**
 * Partition claims (PostgreSQL advisory locks on a session of their own): exclusive across
 * processes, a wait that ends when the claim is no longer wanted, and a database restart —
 * which ends the session and its locks — noticed at the next use: the locks are taken again,
 * or, when another process took one meanwhile, the claim holder is told it lost it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { PostgresStore } from '../../src/store/postgres-store.ts';
import { PrivatePostgres } from '../support/private-postgres.ts';

let pg: PrivatePostgres;
beforeAll(async () => {
  pg = await PrivatePostgres.start();
});
afterAll(async () => {
  await pg?.destroy();
});

/** Another process's view: can it take (scope, n) now? It keeps what it takes until `end`. */
function otherProcess(url: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  return {
    tryTake: async (scope: string, n: number) => (await sql`SELECT pg_try_advisory_lock(hashtext(${scope}), ${n}) AS held`)[0]!.held as boolean,
    end: () => sql.end(),
  };
}

describe('claims', () => {
  it('are exclusive, and a wait ends once the claim is no longer wanted', async () => {
    const a = new PostgresStore(pg.url);
    const b = new PostgresStore(pg.url);
    try {
      expect(await a.claims.claim('t/g', 0)).toBe(true);
      let waited = 0;
      let wanted = true;
      setTimeout(() => (wanted = false), 600);
      expect(await b.claims.claim('t/g', 0, { wanted: () => wanted, onWaiting: () => waited++ })).toBe(false);
      expect(waited).toBe(1);
      await a.claims.release('t/g', 0);
      expect(await b.claims.claim('t/g', 0)).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('survive a database restart: taken again at the next use, or reported lost', async () => {
    const a = new PostgresStore(pg.url);
    try {
      expect(await a.claims.claim('t/g', 1)).toBe(true);
      const other = otherProcess(pg.url);
      expect(await other.tryTake('t/g', 1)).toBe(false);
      await other.end();

      await pg.stopServer('fast');
      await pg.startServer();
      // Nobody took it meanwhile: the next use notices the new session and takes it again.
      expect(await a.claims.claim('t/g', 2)).toBe(true);
      const after = otherProcess(pg.url);
      expect(await after.tryTake('t/g', 1)).toBe(false);
      await after.end();

      await pg.stopServer('fast');
      await pg.startServer();
      // This time another process takes it first: it is not ours any more, and we are told.
      const thief = otherProcess(pg.url);
      expect(await thief.tryTake('t/g', 1)).toBe(true);
      await expect(a.claims.claim('t/g', 3)).rejects.toMatchObject({ name: 'TickflowError', code: 'db_claim_lost' });
      await thief.end();
    } finally {
      await a.close();
    }
  });
});
