import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliEntry, repoRoot } from '../support/cli.ts';
import { waitFor } from '../support/wait.ts';

/** Node's own arguments of a running `tickflow run` (after its restart), from /proc. */
async function nodeArgsOfRun(nodeArgs: string[], db: string, rate = '100'): Promise<string[]> {
  const child = spawn(process.execPath, [...nodeArgs, cliEntry, 'run', '--db', db, '--rate', rate, '--port', '0'], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  try {
    await waitFor(() => (stderr.includes('dashboard on http') ? true : null), { what: 'the dashboard line', timeoutMs: 90_000, context: () => stderr });
    const argv = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((a) => a !== '');
    return argv.slice(1, argv.indexOf(cliEntry));
  } finally {
    child.kill('SIGKILL');
  }
}

// docs/benchmarks.md: without these flags a 500k-trade embedded run peaked at ≈ 770 MB.
describe('the V8 flags of an embedded run', () => {
  it('a slow paced embedded run (npm start) restarts itself with --liftoff-only, an 8 MB semi-space, --optimize-for-size and no optimising JIT', async () => {
    const args = await nodeArgsOfRun([], 'memory');
    expect(args).toEqual(['--liftoff-only', '--max-semi-space-size=8', '--optimize-for-size', '--no-opt', '--no-maglev']);
    expect(await nodeArgsOfRun([], 'memory', '2000')).toEqual(args);
  });

  it('a paced run above 2,000 trades/s keeps the optimising JIT (interpreted, it took twice the CPU)', async () => {
    const args = await nodeArgsOfRun([], 'memory', '2001');
    expect(args).toEqual(['--liftoff-only', '--max-semi-space-size=8', '--optimize-for-size']);
  });

  it('a run at full speed is not optimised for size (it cost a quarter of the rate)', async () => {
    const args = await nodeArgsOfRun([], 'memory', 'max');
    expect(args).toEqual(['--liftoff-only', '--max-semi-space-size=8']);
  });

  it('keeps the flags a user gave Node, in either spelling, and adds only what is missing', async () => {
    const args = await nodeArgsOfRun(['--max_semi_space_size=16', '--no-optimize-for-size', '--maglev'], 'memory');
    expect(args).toEqual(['--liftoff-only', '--no-opt', '--max_semi_space_size=16', '--no-optimize-for-size', '--maglev']);
  });

  it('a run into PostgreSQL at full speed gets only the 8 MB semi-space; a paced one is left as it is', async () => {
    const db = 'postgres://postgres@127.0.0.1:5432/tickflow_v8_flags';
    expect(await nodeArgsOfRun([], db, 'max')).toEqual(['--max-semi-space-size=8']);
    expect(await nodeArgsOfRun(['--max-semi-space-size=32'], db, 'max')).toEqual(['--max-semi-space-size=32']);
    expect(await nodeArgsOfRun([], db)).toEqual([]);
  });
});
