/**
 * Fault 6: a slow sink. A transaction holds an exclusive lock on stock_trades for 30 s while
 * `tickflow produce --rate max` pushes a burst; the consumer (`run --source kafka`) must not
 * crash or buffer without limit, and must catch up once the lock is gone.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { dirtyLines, drainAndStop, expectedFor, pipelineTopics, writeLines } from '../kafka/kafka-support.ts';
import { tickflow, TickflowProcess } from '../support/cli.ts';
import { countRows, freshDatabase, readTables } from '../support/postgres.ts';
import { bySize } from '../support/soak.ts';
import { uniqueName } from '../support/stack.ts';
import { waitFor } from '../support/wait.ts';
import { metric, watchRss } from './fault-support.ts';

const LOCK_MS = 30_000;
const WARMUP = 5_000;
const COUNT = bySize(200_000, 600_000);
/**
 * V8's heap capped as the README's Guarantees state it (uncapped, V8 lets the heap grow with
 * the burst though the live set stays under 300 MB); the resident-memory figure itself is a
 * benchmark's, not this test's.
 */
const HEAP_CAP_MB = 384;
/**
 * Records read but not stored while the sink is stuck: at most three batches (two in flight,
 * one filling; 10,000 trades by default), each over its size by at most one fetch (512 KiB per
 * partition, 3 partitions: under 16,000 records of this feed). Without backpressure it would be
 * the whole burst.
 */
const LAG_BOUND = 3 * (10_000 + 16_000);
const dir = mkdtempSync(join(tmpdir(), 'tickflow-slow-sink-'));
const dbs: { drop: () => Promise<void> }[] = [];

afterAll(async () => {
  for (const d of dbs) await d.drop();
});

describe('PostgreSQL stalled by a 30 s table lock while the producer pushes at full speed', () => {
  it('the consumer stays up, reads no further ahead than its batches, and catches up; every trade stored once', async () => {
    const lines = dirtyLines(COUNT, 2468);
    const warm = join(dir, 'warm.jsonl');
    const burst = join(dir, 'burst.jsonl');
    writeLines(warm, lines.slice(0, WARMUP));
    writeLines(burst, lines.slice(WARMUP));
    const topics = await pipelineTopics(dir, 'kslow');
    const expected = expectedFor(lines, topics);
    const pg = await freshDatabase('tickflow_kslow');
    dbs.push(pg);
    const group = uniqueName('g');
    const consumer = new TickflowProcess(['run', '--source', 'kafka', '--port', '0', '--spec', topics.specFile, '--group', group, '--db', pg.url], {
      env: { NODE_OPTIONS: `--max-old-space-size=${HEAP_CAP_MB}` },
    });
    const base = await consumer.dashboardUrl();
    expect((await tickflow(['produce', '--from', `file:${warm}`, '--topic', topics.input])).code).toBe(0);
    await waitFor(async () => (await countRows(pg.url, 'stock_trades')) > 0, {
      what: 'the warm-up stored',
      timeoutMs: 120_000,
      context: () => consumer.stderr,
    });

    const locker = postgres(pg.url, { max: 1, onnotice: () => {} });
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holding = locker.begin(async (tx) => {
      await tx`LOCK TABLE stock_trades IN ACCESS EXCLUSIVE MODE`;
      locked();
      await sleep(LOCK_MS);
    });
    await isLocked;
    let lockHeld = true;
    void holding.finally(() => (lockHeld = false));
    const storedAtLock = await metric(base, 'tickflow_events_stored_total');
    const rss = watchRss(consumer.child.pid!);
    const burstStarted = Date.now();
    const produced = await tickflow(['produce', '--from', `file:${burst}`, '--topic', topics.input, '--rate', 'max'], { timeoutMs: 300_000 });
    expect(produced.code, produced.stderr).toBe(0);
    const burstSeconds = (Date.now() - burstStarted) / 1000;
    // The most records waiting while the lock stands (sampled until it is released).
    let lagDuringLock = 0;
    while (lockHeld) {
      lagDuringLock = Math.max(lagDuringLock, (await metric(base, 'tickflow_sink_lag_records')) ?? 0);
      await Promise.race([holding, sleep(250)]);
    }
    await holding;
    const peakDuringLock = rss.stop();
    await locker.end();
    expect(consumer.running, consumer.stderr).toBe(true);
    expect(lagDuringLock).toBeLessThanOrEqual(LAG_BOUND);
    // The lock held writes back: the burst was not stored while it stood.
    expect(await metric(base, 'tickflow_events_stored_total')).toBeLessThan(storedAtLock! + COUNT / 2);

    const after = watchRss(consumer.child.pid!);
    const released = Date.now();
    const r = await drainAndStop(consumer, group, topics.input, 300_000);
    const catchUpSeconds = (Date.now() - released) / 1000;
    const peakCatchingUp = after.stop();
    expect(r.code, r.stderr).toBe(0);

    const compared = Date.now();
    const actual = await readTables(pg.url);
    expect(actual.trades).toEqual(expected.trades);
    expect(actual.rejected).toEqual(expected.rejected);
    console.log(
      `slow sink: burst of ${COUNT - WARMUP} produced in ${burstSeconds.toFixed(1)} s during a ${LOCK_MS / 1000} s lock; ${lagDuringLock} records waiting at its end; consumer peak RSS ${peakDuringLock} MB locked, ${peakCatchingUp} MB catching up; caught up and stopped in ${catchUpSeconds.toFixed(1)} s, tables compared in ${((Date.now() - compared) / 1000).toFixed(1)} s`,
    );
  });
});
