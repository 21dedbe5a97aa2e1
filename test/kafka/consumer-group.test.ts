import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { tickflow } from '../support/cli.ts';
import { freshDatabase } from '../support/postgres.ts';
import { uniqueName } from '../support/stack.ts';
import { countTrades, dirtyLines, expectedFor, pipelineTopics, readTables, writeLines } from './kafka-support.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tickflow-kafka-crash-'));
const dbs: { drop: () => Promise<void> }[] = [];
const children: ChildProcess[] = [];

/** `tickflow run --source kafka …` in the background; resolves its exit and output. */
function startConsumer(args: string[]) {
  const child = spawn(process.execPath, [MAIN, 'run', '--source', 'kafka', '--no-dashboard', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}


async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

afterAll(async () => {
  for (const d of dbs) await d.drop();
});

const largeOnly = (rows: string[]) => rows.filter((a) => a.startsWith('large:'));

describe('consumer groups', () => {
  it('two consumers in one group split the partitions and together store every trade once', async () => {
    const lines = dirtyLines(20_000, 991);
    const file = join(dir, 'group.jsonl');
    writeLines(file, lines);
    const topics = await pipelineTopics(dir, 'kgroup');
    const expected = expectedFor(lines, topics);
    const pg = await freshDatabase('tickflow_kgroup');
    dbs.push(pg);
    const group = uniqueName('g');
    const a = startConsumer(['--spec', topics.specFile, '--group', group, '--db', pg.url, '--batch-size', '1000']);
    await sleep(3_000);
    const b = startConsumer(['--spec', topics.specFile, '--group', group, '--db', pg.url, '--batch-size', '1000']);
    // Both members are in the group once the rebalance settles.
    await sleep(8_000);
    expect((await tickflow(['produce', '--from', `file:${file}`, '--topic', topics.input, '--rate', '4000'])).code).toBe(0);
    await waitFor('every trade stored', async () => (await countTrades(pg.url)) >= expected.trades.length);
    await sleep(1_000);
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    const sa = JSON.parse(ra.stdout);
    const sb = JSON.parse(rb.stdout);
    expect(sa.read).toBeGreaterThan(0);
    expect(sb.read).toBeGreaterThan(0);
    expect(sa.read + sb.read).toBeGreaterThanOrEqual(lines.length);
    expect(sa.stored + sb.stored).toBe(expected.trades.length);
    const actual = await readTables(pg.url);
    expect(actual.trades).toEqual(expected.trades);
    expect(actual.rejected).toEqual(expected.rejected);
    expect(largeOnly(actual.alerts!)).toEqual(largeOnly(expected.alerts));
  });
});
