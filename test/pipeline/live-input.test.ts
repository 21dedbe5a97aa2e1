import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.ts';
import { tickflow, TickflowProcess } from '../support/cli.ts';
import { freshDatabase } from '../support/postgres.ts';
import { waitFor } from '../support/wait.ts';

let pg: { url: string; drop: () => Promise<void> };

beforeAll(async () => {
  pg = await freshDatabase();
});
afterAll(async () => {
  await pg?.drop();
});

describe('a quiet source', () => {
  it('stores a trade read from stdin within moments, while stdin stays open', async () => {
    const run = new TickflowProcess(['run', '--source', 'file:-', '--db', pg.url, '--json', '--no-dashboard']);
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      run.write(['{"trade_id":"quiet-1","ticker":"AAPL","price":"10.5","volume":3,"trade_timestamp":"2026-11-25T10:00:00Z"}']);
      const rows = await waitFor(
        async () => {
          const found = await sql`SELECT trade_id FROM stock_trades WHERE trade_id = 'quiet-1'`.catch(() => []);
          return found.length > 0 ? found : null;
        },
        { what: 'the trade in stock_trades', timeoutMs: 30_000, context: () => run.stderr },
      );
      expect(rows).toHaveLength(1);
      expect(run.running).toBe(true); // still running: the row did not wait for the end of input
    } finally {
      run.child.stdin.end();
      await run.done;
      await sql.end();
    }
  });
});

describe('the embedded database', () => {
  it('refuses a second process while one has it open, and is free again after', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'tickflow-lock-')), 'pgdata');
    const holder = await openStore(`pglite:${dir}`);
    try {
      const r = await tickflow(['run', '--db', `pglite:${dir}`, '--count', '10', '--rate', 'max', '--no-dashboard']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('is in use by process');
    } finally {
      await holder.close();
    }
    const again = await tickflow(['run', '--db', `pglite:${dir}`, '--count', '10', '--rate', 'max', '--no-dashboard', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).stored).toBe(10);
  });
});
