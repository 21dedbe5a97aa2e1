import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import postgres from 'postgres';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type CliResult, tickflow, TickflowProcess } from '../support/cli.ts';
import { countRows, freshDatabase, readTables } from '../support/postgres.ts';
import { uniqueName } from '../support/stack.ts';
import { waitFor } from '../support/wait.ts';
import { BROKERS, closeOut, committedAll, dirtyLines, expectedFor, pipelineTopics, writeLines } from './kafka-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'tickflow-kafka-crash-'));
const dbs: { drop: () => Promise<void> }[] = [];
const children: TickflowProcess[] = [];

/** `tickflow run --source kafka …` in the background. */
function startConsumer(args: string[]): TickflowProcess {
  const child = new TickflowProcess(['run', '--source', 'kafka', '--no-dashboard', '--json', ...args]);
  children.push(child);
  return child;
}

const countTrades = (url: string) => countRows(url, 'stock_trades');

/** Resolves once the group is stable with `members` members, each assigned a partition of `topic`. */
async function groupSettled(group: string, topic: string, members: number): Promise<void> {
  const admin = new Admin({ clientId: 'tickflow-test-admin', bootstrapBrokers: [BROKERS] });
  try {
    await waitFor(
      async () => {
        const g = (await admin.describeGroups({ groups: [group] })).get(group);
        if (g === undefined || !/^stable$/i.test(g.state) || g.members.size !== members) return false;
        return [...g.members.values()].every((m) => (m.assignments?.get(topic)?.partitions.length ?? 0) > 0);
      },
      { what: `group ${group} stable with ${members} members, each with a partition of ${topic}`, timeoutMs: 120_000 },
    );
  } finally {
    await admin.close();
  }
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.running) c.child.kill('SIGKILL');
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
    await groupSettled(group, topics.input, 1);
    const b = startConsumer(['--spec', topics.specFile, '--group', group, '--db', pg.url, '--batch-size', '1000']);
    await groupSettled(group, topics.input, 2);
    expect((await tickflow(['produce', '--from', `file:${file}`, '--topic', topics.input, '--rate', '4000'])).code).toBe(0);
    await committedAll(group, topics.input, [a, b]);
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
    const producer = new TickflowProcess(['produce', '--from', `file:${file}`, '--topic', topics.input, '--rate', '300']);
    children.push(producer);
    const storedMore = async (what: string, n: number) => {
      const base = await countTrades(pg.url);
      await waitFor(async () => (await countTrades(pg.url)) >= Math.min(expected.trades.length, base + n), { what, timeoutMs: 120_000 });
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
    expect((await producer.done).code).toBe(0);
    await committedAll(group, topics.input, [b, c]);
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
      await waitFor(() => /waiting for .+:0 to be handed over/.test(stopped.stderr), { what: 'the member to wait', timeoutMs: 120_000 });
      expect(await countTrades(pg.url)).toBe(0);
      const r = await stopped.stop('SIGTERM');
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).read).toBe(0);

      const waiting = startConsumer(['--spec', topics.specFile, '--group', group, '--db', pg.url, '--stop-at-end']);
      await waitFor(() => /waiting for .+:0 to be handed over/.test(waiting.stderr), { what: 'the member to wait', timeoutMs: 120_000 });
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

/** SIGTERM to both members at once; each must exit 0. */
async function stopAll(a: TickflowProcess, b: TickflowProcess): Promise<[CliResult, CliResult]> {
  const results = await Promise.all([a.stop('SIGTERM'), b.stop('SIGTERM')]);
  for (const r of results) expect(r.code, r.stderr).toBe(0);
  return results;
}
