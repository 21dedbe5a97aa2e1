import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cliEntry, repoRoot } from '../support/cli.ts';

/** Runs `tickflow <args>`, closes its stdout after the first chunk (as `| head -1` does), and reports how it ended. */
function closeAfterFirstChunk(args: string[]): Promise<{ code: number | null; stderr: string; first: string }> {
  const child = spawn(process.execPath, [cliEntry, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let first = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.once('data', (d: Buffer) => {
    first = d.toString('utf8');
    child.stdout.destroy();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, first }));
  });
}

describe('a reader that stops early (| head)', () => {
  it.each([[['simulate', '--count', '2000000', '--seed', '1']], [['--help']], [['run', '--help']]])('%j ends quietly with status 0', async (args) => {
    const r = await closeAfterFirstChunk(args);
    expect(r.first.length).toBeGreaterThan(0);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
