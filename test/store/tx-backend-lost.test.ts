import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../support/postgres.ts';

// postgres.js 3.4.9 as published crashes the process in the first case (a write queued on a
// closed connection) and commits the checkpoint statement outside its transaction in the second;
// patches/postgres+3.4.9.patch is what these check.
const SCRIPT = fileURLToPath(new URL('./fixtures/tx-backend-lost.ts', import.meta.url));
let pg: { url: string; drop: () => Promise<void> };

beforeAll(async () => {
  pg = await freshDatabase();
});
afterAll(async () => {
  await pg?.drop();
});

async function lose(mode: 'busy' | 'idle'): Promise<{ code: number | null; result: Record<string, unknown>; log: string }> {
  const child = spawn(process.execPath, [SCRIPT, pg.url, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const line = out.split('\n').find((l) => l.startsWith('{'));
  return { code, result: line ? JSON.parse(line) : {}, log: out };
}

/** What both cases must end with: the write failed as a lost connection, nothing of it stayed, the store goes on. */
const RECOVERED = {
  killed: 1,
  between: 'ok 1',
  outcome: 'failed CONNECTION_CLOSED transient=true',
  marks: 0,
  trades: 0,
  next: 'wrote 3',
};

describe('a write whose database session is terminated mid-transaction', () => {
  it('with a statement in flight: the write fails with an error the run waits out, the process stays up, the next write lands', async () => {
    const { code, result, log } = await lose('busy');
    expect(code, log).toBe(0);
    expect(result, log).toEqual(RECOVERED);
  });

  it('while it waits on its predecessor: its later statements are refused, never run outside it on the next session', async () => {
    const { code, result, log } = await lose('idle');
    expect(code, log).toBe(0);
    expect(result, log).toEqual(RECOVERED);
  });
});
