import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
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
  return { child, done, stderr: () => stderr };
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
    const [ra, rb] = await stopAll(a, b);
    const sa = JSON.parse(ra.stdout);
    const sb = JSON.parse(rb.stdout);
    expect(sa.read).toBeGreaterThan(0);
    expect(sb.read).toBeGreaterThan(0);
    expect(sa.read + sb.read).toBeGreaterThanOrEqual(lines.length);
    expect(sa.stored + sb.stored).toBe(expected.trades.length);
    // A stop is a pause: the windows still open wait in the checkpoints. A run that reads the
    // topic as finite takes both members' checkpoints over and closes them.
    const end = await closeOut(topics.specFile, group, pg.url);
    expect(end.read).toBe(0);
    const actual = await readTables(pg.url);
    expect(actual.trades).toEqual(expected.trades);
    expect(actual.rejected).toEqual(expected.rejected);
    expect(actual.alerts).toEqual(expected.alerts);
    expect(actual.candles).toEqual(expected.candles);
  });

  it('partitions that move between members mid-stream (members joining, one killed) carry their state with them', async () => {
    // Each member keeps its own watermark, so a partition taken over after a backlog built up
    // (a dead member's session timeout) is behind the new owner's event time. A generous bound
    // (10 min of event time; the feed runs ~30× faster than the clock) keeps that backlog on
    // time, so what is tested is the hand-over itself: exact state, nothing twice.
    const lines = dirtyLines(12_000, 4242);
    const file = join(dir, 'moves.jsonl');
    writeLines(file, lines);
    const topics = await pipelineTopics(dir, 'kmoves', 3, { input: { outOfOrdernessMs: 600_000 } });
    const expected = expectedFor(lines, topics);
    const pg = await freshDatabase('tickflow_kmoves');
    dbs.push(pg);
    const group = uniqueName('g');
    const member = () => startConsumer(['--spec', topics.specFile, '--group', group, '--db', pg.url, '--batch-size', '300']);
    const producer = spawn(process.execPath, [MAIN, 'produce', '--from', `file:${file}`, '--topic', topics.input, '--rate', '300'], { stdio: 'ignore' });
    children.push(producer);
    const produced = new Promise<number | null>((resolve) => producer.on('close', resolve));
    const storedMore = async (what: string, n: number) => {
      const base = await countTrades(pg.url);
      await waitFor(what, async () => (await countTrades(pg.url)) >= Math.min(expected.trades.length, base + n));
    };
    const a = member();
    await storedMore('a to store trades', 1_000);
    // b joins: a commits what it read and releases the partitions it loses; b waits for them.
    const b = member();
    await storedMore('a and b to store trades', 2_000);
    // a dies: after its session times out, b takes a's partitions over from their checkpoints.
    a.child.kill('SIGKILL');
    expect((await a.done).signal).toBe('SIGKILL');
    await storedMore('b to take over', 2_500);
    // c joins: b hands some partitions over live.
    const c = member();
    await storedMore('b and c to store trades', 1_500);
    expect(await produced).toBe(0);
    await waitFor('every trade stored', async () => (await countTrades(pg.url)) >= expected.trades.length);
    await sleep(1_000);
    const [rb, rc] = await stopAll(b, c);
    expect(rb.stderr).toMatch(/resuming from checkpoint: /);
    expect(rc.stderr).toMatch(/resuming from checkpoint: /);
    expect(JSON.parse(rc.stdout).read).toBeGreaterThan(0);
    expect(JSON.parse(rb.stdout).late).toBe(0);
    await closeOut(topics.specFile, group, pg.url);
    const actual = await readTables(pg.url);
    expect(actual.trades).toEqual(expected.trades);
    expect(actual.rejected).toEqual(expected.rejected);
    expect(actual.alerts).toEqual(expected.alerts);
    expect(actual.candles).toEqual(expected.candles);
  });
});

describe('partition hand-over', () => {
  it('a member waits for the previous owner to release a partition, and can be stopped while it waits', async () => {
    const lines = dirtyLines(3_000, 77);
    const file = join(dir, 'claims.jsonl');
    writeLines(file, lines);
    const topics = await pipelineTopics(dir, 'kclaim', 1);
    expect((await tickflow(['produce', '--from', `file:${file}`, '--topic', topics.input])).code).toBe(0);
    const expected = expectedFor(lines, topics);
    const pg = await freshDatabase('tickflow_kclaim');
    dbs.push(pg);
    const group = uniqueName('g');
    // Stand in for a previous owner still committing: hold the partition's claim.
    const owner = postgres(pg.url, { max: 1, onnotice: () => {} });
    const held = await owner.reserve();
    try {
      await held`SELECT pg_advisory_lock(hashtext(${`${topics.input}/${group}`}), 0)`;
      const stopped = startConsumer(['--spec', topics.specFile, '--group', group, '--db', pg.url]);
      await waitFor('the member to wait', async () => /waiting for .+:0 to be handed over/.test(stopped.stderr()));
      await sleep(1_000);
      expect(await countTrades(pg.url)).toBe(0);
      stopped.child.kill('SIGTERM');
      const r = await stopped.done;
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).read).toBe(0);

      const waiting = startConsumer(['--spec', topics.specFile, '--group', group, '--db', pg.url, '--stop-at-end']);
      await waitFor('the member to wait', async () => /waiting for .+:0 to be handed over/.test(waiting.stderr()));
      expect(await countTrades(pg.url)).toBe(0);
      await held`SELECT pg_advisory_unlock(hashtext(${`${topics.input}/${group}`}), 0)`;
      const done = await waiting.done;
      expect(done.code, done.stderr).toBe(0);
      expect(JSON.parse(done.stdout).stored).toBe(expected.trades.length);
    } finally {
      held.release();
      await owner.end();
    }
  });
});

type Member = ReturnType<typeof startConsumer>;

/** SIGTERM to both members at once; each must exit 0. */
async function stopAll(a: Member, b: Member): Promise<[Awaited<Member['done']>, Awaited<Member['done']>]> {
  a.child.kill('SIGTERM');
  b.child.kill('SIGTERM');
  const results = await Promise.all([a.done, b.done]);
  for (const r of results) expect(r.code, r.stderr).toBe(0);
  return results;
}

/** `run --stop-at-end` on the group: takes every checkpoint over, reads what is left, closes the open windows. */
async function closeOut(specFile: string, group: string, db: string): Promise<{ read: number }> {
  const r = await tickflow(['run', '--source', 'kafka', '--no-dashboard', '--json', '--spec', specFile, '--group', group, '--db', db, '--stop-at-end']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { read: number };
}
