import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.ts';
import { tickflow } from '../support/cli.ts';
import { freshDatabase } from '../support/postgres.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
let pg: { url: string; drop: () => Promise<void> };

beforeAll(async () => {
  pg = await freshDatabase();
});
afterAll(async () => {
  await pg?.drop();
});

describe('a quiet source', () => {
  it('stores a trade read from stdin within moments, while stdin stays open', async () => {
    const child = spawn(process.execPath, [MAIN, 'run', '--source', 'file:-', '--db', pg.url, '--json', '--no-dashboard'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      child.stdin.write('{"trade_id":"quiet-1","ticker":"AAPL","price":"10.5","volume":3,"trade_timestamp":"2026-11-25T10:00:00Z"}\n');
      let rows: unknown[] = [];
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        rows = await sql`SELECT trade_id FROM stock_trades WHERE trade_id = 'quiet-1'`.catch(() => []);
        if (rows.length > 0) break;
        await sleep(100);
      }
      expect(rows).toHaveLength(1);
      expect(child.exitCode).toBeNull(); // still running: the row did not wait for the end of input
    } finally {
      child.stdin.end();
      await new Promise((r) => child.on('close', r));
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
