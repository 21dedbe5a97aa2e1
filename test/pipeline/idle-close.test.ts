import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('a source that pauses', () => {
  it('has its last windows written once it is idle, while stdin stays open', async () => {
    // Idle after 2 s; then event time runs with the wall clock from the newest trade (0.7 s)
    // minus the bound (1 s): the window [0, 1 s) closes 1.3 s later, ≈ 3.3 s after the last line.
    const spec = join(mkdtempSync(join(tmpdir(), 'tickflow-idle-')), 'spec.json');
    writeFileSync(spec, JSON.stringify({ input: { idleTimeoutMs: 2_000, outOfOrdernessMs: 1_000 }, candles: { intervalMs: 1_000 } }));
    const run = new TickflowProcess(['run', '--source', 'file:-', '--spec', spec, '--db', pg.url, '--json', '--no-dashboard']);
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      const at = (s: string) => `2026-11-25T10:00:0${s}Z`;
      run.write([
        `{"trade_id":"i-1","ticker":"AAPL","price":"10.5","volume":3,"trade_timestamp":"${at('0.200')}"}`,
        `{"trade_id":"i-2","ticker":"AAPL","price":"11","volume":1,"trade_timestamp":"${at('0.500')}"}`,
        `{"trade_id":"i-3","ticker":"MSFT","price":"2","volume":5,"trade_timestamp":"${at('0.700')}"}`,
      ]);
      const written = performance.now();
      const rows = await waitFor(
        async () => {
          const found = await sql`SELECT ticker, open::text, close::text, volume::int, trade_count FROM trade_candles ORDER BY ticker`.catch(() => []);
          return found.length === 2 ? found : null;
        },
        { what: 'both candles in trade_candles', timeoutMs: 2_000 + 1_300 + 10_000, context: () => run.stderr },
      );
      expect(performance.now() - written).toBeGreaterThan(2_000);
      expect(rows.map((r) => ({ ...r }))).toEqual([
        { ticker: 'AAPL', open: '10.5000', close: '11.0000', volume: 4, trade_count: 2 },
        { ticker: 'MSFT', open: '2.0000', close: '2.0000', volume: 5, trade_count: 1 },
      ]);
      expect(run.running).toBe(true);
    } finally {
      run.child.stdin.end();
      await run.done;
      await sql.end();
    }
  });

  it('a heartbeat in the input moves event time: counted, never stored, never a dead letter', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickflow-beat-'));
    const file = join(dir, 'beat.jsonl');
    writeFileSync(
      file,
      [
        '{"trade_id":"h-1","ticker":"AAPL","price":"10","volume":1,"trade_timestamp":"2026-11-25T10:00:10Z"}',
        '{"heartbeat":"2026-11-25T10:01:05Z"}',
        '{"heartbeat":"2026-11-25T10:01:05Z","extra":1}',
      ].join('\n'),
    );
    const r = await tickflow(['run', '--source', `file:${file}`, '--db', pg.url, '--json', '--no-dashboard']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ read: 3, stored: 1, heartbeats: 1, dead_letters: 1, late: 0, candles: 1 });
  });
});
