import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { emptyOutput } from '../../src/engine/records.ts';
import { openStore } from '../../src/store/open-store.ts';
import { TradeCopyRows } from '../../src/store/trade-copy-binary.ts';
import { repoRoot } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'tickflow-pglite-thread-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// PGlite on a thread of its own (run at full speed) must behave as on the caller's thread:
// errors keep their SQLSTATE, which the writer's replay path tests, and the data stays.
describe('PGlite on its own thread', () => {
  it('passes errors back with their SQLSTATE, and scripts and parameters as on the caller thread', async () => {
    const store = await openStore('memory', { pglite: 'speed' });
    try {
      await expect(store.query('SELEC 1')).rejects.toMatchObject({ code: '42601' });
      await expect(store.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
      expect(await store.query('SELECT 1 AS a; SELECT 2 AS b')).toEqual([{ b: 2 }]);
      expect(await store.query('SELECT $1::int + 1 AS n', [41])).toEqual([{ n: 42 }]);
    } finally {
      await store.close();
    }
    await expect(store.query('SELECT 1')).rejects.toThrow();
  });

  it('refuses a request made while it closes, and keeps the process alive until its thread has exited', () => {
    // In a process of its own: only there does an empty event loop end the process (exit 13,
    // "unsettled top-level await") while close() waits for the thread. Six rounds, since the
    // late answer and the thread's exit race.
    const storeUrl = pathToFileURL(join(repoRoot, 'src/store/pglite-store.ts')).href;
    const script = `
      import { PGliteStore } from ${JSON.stringify(storeUrl)};
      for (let round = 0; round < 6; round++) {
        const store = await PGliteStore.open(null, 'speed');
        const before = store.query('SELECT 1 AS one');
        const closing = store.close();
        const late = store.query('SELECT 2 AS two').then(() => 'answered', (e) => e.message);
        console.log(JSON.stringify([await before, await closing, await late]));
      }`;
    const file = join(dir, 'close-race.mjs');
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, [file], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const rounds = r.stdout.trim().split('\n');
    expect(rounds).toHaveLength(6);
    for (const line of rounds) expect(JSON.parse(line)).toEqual([[{ one: 1 }], null, 'the embedded database is closed']);
  });

  it("moves a write's rows to its thread, and the output keeps its own for a retry", async () => {
    const store = await openStore('memory', { pglite: 'speed' });
    const trade = (i: number) => ({ tradeId: `m${i}`, ticker: 'AAPL', priceE4: 1_000_000 + i, volume: 10 + i, tsMs: Date.UTC(2026, 0, 1) + i });
    try {
      // Taken early: the output's only copy of these rows, which a failed write would send again.
      const rows = new TradeCopyRows();
      rows.append([trade(1), trade(2), trade(3)]);
      const out = { ...emptyOutput(), earlierTrades: rows.take() };
      const bytes = out.earlierTrades.copy.byteLength;
      expect((await store.write(out)).trades).toBe(3);
      expect(out.earlierTrades.copy.byteLength).toBe(bytes);
      expect((await store.write(out)).trades).toBe(0);
      // Built at the write, with a row already stored: the COPY fails, and the staging path
      // reads the same moved rows a second time.
      expect((await store.write({ ...emptyOutput(), trades: [trade(3), trade(4)] })).trades).toBe(1);
      expect(await store.query('SELECT trade_id, volume FROM stock_trades ORDER BY trade_id')).toEqual(
        [1, 2, 3, 4].map((i) => ({ trade_id: `m${i}`, volume: 10 + i })),
      );
    } finally {
      await store.close();
    }
  });

  it('keeps what it stored in a directory, for the next open on either thread', async () => {
    const db = `pglite:${join(dir, 'data')}`;
    const a = await openStore(db, { pglite: 'speed' });
    await a.query(`INSERT INTO stock_trades VALUES ('x1', 'AAPL', 1.5, 10, '2026-01-01T00:00:00Z')`);
    await a.close();
    const b = await openStore(db);
    try {
      expect(await b.query('SELECT trade_id, price::text AS price FROM stock_trades')).toEqual([{ trade_id: 'x1', price: '1.5000' }]);
    } finally {
      await b.close();
    }
  });

  it('is tuned for speed with 16 MB of shared buffers and 4 MB of WAL buffers, for footprint (the default) with 4 MB and 1 MB; new WAL files are not zeroed', async () => {
    for (const [pglite, buffers, wal] of [
      ['speed', '16MB', '4MB'],
      ['footprint', '4MB', '1MB'],
      [undefined, '4MB', '1MB'],
    ] as const) {
      const store = await openStore('memory', { pglite });
      try {
        expect(await store.query('SHOW shared_buffers')).toEqual([{ shared_buffers: buffers }]);
        expect(await store.query('SHOW wal_buffers')).toEqual([{ wal_buffers: wal }]);
        expect(await store.query('SHOW wal_init_zero')).toEqual([{ wal_init_zero: 'off' }]);
      } finally {
        await store.close();
      }
    }
  });
});
