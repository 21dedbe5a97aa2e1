import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../support/postgres.ts';

// postgres.js 3.4.9 as published crashes the process in the first case (a write queued on a
// closed connection), commits the checkpoint statement outside its transaction in the second,
// and hangs the store in the third (a statement of the dead session left waiting on the next
// one); patches/postgres+3.4.9.patch is what these check.
const SCRIPT = fileURLToPath(new URL('./fixtures/tx-backend-lost.ts', import.meta.url));
let pg: { url: string; drop: () => Promise<void> };

beforeAll(async () => {
  pg = await freshDatabase();
});
afterAll(async () => {
  await pg?.drop();
});

async function lose(mode: 'busy' | 'idle' | 'anywhere', rounds = 1): Promise<{ code: number | null; results: unknown[]; log: string }> {
  // A hang is a failure too: the child is stopped well before the test's own timeout.
  const child = spawn(process.execPath, [SCRIPT, pg.url, mode, String(rounds)], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const results = out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as unknown);
  return { code, results, log: out };
}

/** Each round must end so: the write failed as a lost connection, nothing of it stayed, the store goes on. */
const RECOVERED = {
  killed: 1,
  between: 'ok 1',
  outcome: 'failed CONNECTION_CLOSED transient=true',
  marks: 0,
  trades: 0,
  next: 'wrote 2000',
};

describe('a write whose database session is terminated mid-transaction', () => {
  it('with a statement in flight: the write fails with an error the run waits out, the process stays up, the next write lands', async () => {
    const { code, results, log } = await lose('busy');
    expect(code, log).toBe(0);
    expect(results, log).toEqual([RECOVERED]);
  });

  it('while it waits on its predecessor: its later statements are refused, never run outside it on the next session', async () => {
    const { code, results, log } = await lose('idle');
    expect(code, log).toBe(0);
    expect(results, log).toEqual([RECOVERED]);
  });

  it('at whatever moment of it the session is seen: all or nothing of the write, and the store serves the next', async () => {
    const { code, results, log } = await lose('anywhere', 12);
    expect(code, log).toBe(0);
    expect(results, log).toEqual(Array.from({ length: 12 }, () => RECOVERED));
  });
});
