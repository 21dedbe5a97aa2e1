import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../support/postgres.ts';

const SCRIPT = fileURLToPath(new URL('./fixtures/copy-cut.ts', import.meta.url));
let pg: { url: string; drop: () => Promise<void> };

beforeAll(async () => {
  pg = await freshDatabase();
});
afterAll(async () => {
  await pg?.drop();
});

describe('a connection cut while a batch is being copied', () => {
  it('fails that write with an error the run waits out, and never takes the process down', async () => {
    const child = spawn(process.execPath, [SCRIPT, pg.url, '400000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // The moment the server runs the COPY, its backend is terminated: the client is then still
    // sending the batch's rows (≈ 50 MB).
    const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
    let cut = 0;
    try {
      for (let i = 0; i < 2_000 && cut === 0; i++) {
        const rows =
          await admin`SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE query LIKE 'COPY stock_trades%' AND pid <> pg_backend_pid()`;
        cut = rows.filter((r) => r.done === true).length;
        if (cut === 0) await new Promise((r) => setTimeout(r, 2));
      }
    } finally {
      await admin.end();
    }
    const code = await exited;
    expect(cut, out + err).toBe(1);
    expect({ code, out: out.trim().split('\n').at(-1) }, err).toEqual({ code: 0, out: expect.stringMatching(/^failed \S+ transient=true$/) });
  });
});
