import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { watchRss } from '../test/faults/fault-support.ts';
import { dirtyLines, drainAndStop, pipelineTopics, writeLines } from '../test/kafka/kafka-support.ts';
import { tickflow, TickflowProcess } from '../test/support/cli.ts';
import { countRows, freshDatabase } from '../test/support/postgres.ts';
import { uniqueName } from '../test/support/stack.ts';
import { waitFor } from '../test/support/wait.ts';
import type { Bench, BenchRow } from './bench.ts';

const LOCK_MS = 30_000;
const WARMUP = 5_000;
const COUNT = 200_000;
/** V8's heap capped as the README's Guarantees state it; the bound is on the whole process. */
const HEAP_CAP_MB = 384;

/**
 * Resident memory of the Kafka consumer while a 30 s table lock holds its writes back and a
 * burst of 195,000 records arrives, and while it catches up (test/faults/kafka-slow-sink.test.ts
 * checks the behaviour: it stays up, reads no further ahead than its batches, stores all).
 */
export const bench: Bench = {
  name: 'slow-sink',
  needsStack: true,
  async run(): Promise<BenchRow[]> {
    const dir = mkdtempSync(join(tmpdir(), 'tickflow-bench-slow-sink-'));
    const pg = await freshDatabase('tickflow_bench_slow');
    try {
      const lines = dirtyLines(COUNT, 2468);
      const warm = join(dir, 'warm.jsonl');
      const burst = join(dir, 'burst.jsonl');
      writeLines(warm, lines.slice(0, WARMUP));
      writeLines(burst, lines.slice(WARMUP));
      const topics = await pipelineTopics(dir, 'bslow');
      const group = uniqueName('g');
      const consumer = new TickflowProcess(['run', '--source', 'kafka', '--no-dashboard', '--spec', topics.specFile, '--group', group, '--db', pg.url], {
        env: { NODE_OPTIONS: `--max-old-space-size=${HEAP_CAP_MB}` },
      });
      if ((await tickflow(['produce', '--from', `file:${warm}`, '--topic', topics.input])).code !== 0) throw new Error('warm-up produce failed');
      await waitFor(async () => (await countRows(pg.url, 'stock_trades')) > 0, {
        what: 'the warm-up stored',
        timeoutMs: 120_000,
        context: () => consumer.stderr,
      });
      const locker = postgres(pg.url, { max: 1, onnotice: () => {} });
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const holding = locker.begin(async (tx) => {
        await tx`LOCK TABLE stock_trades IN ACCESS EXCLUSIVE MODE`;
        locked();
        await sleep(LOCK_MS);
      });
      await isLocked;
      const duringLock = watchRss(consumer.child.pid!);
      const produced = await tickflow(['produce', '--from', `file:${burst}`, '--topic', topics.input, '--rate', 'max'], { timeoutMs: 300_000 });
      if (produced.code !== 0) throw new Error(`burst produce failed: ${produced.stderr}`);
      await holding;
      const peakLocked = duringLock.stop();
      await locker.end();
      const catchingUp = watchRss(consumer.child.pid!);
      const r = await drainAndStop(consumer, group, topics.input, 300_000);
      const peakCatchingUp = catchingUp.stop();
      if (r.code !== 0) throw new Error(`the consumer exited ${r.code}: ${r.stderr.slice(-2_000)}`);
      const notes = `--max-old-space-size=${HEAP_CAP_MB}; ${COUNT - WARMUP} records produced at max rate during a ${LOCK_MS / 1000} s lock`;
      return [
        { name: 'consumer peak RSS, sink locked', value: peakLocked, unit: 'MB', target: '< 640 MB', met: peakLocked < 640, notes },
        { name: 'consumer peak RSS, catching up', value: peakCatchingUp, unit: 'MB', target: '< 640 MB', met: peakCatchingUp < 640, notes },
      ];
    } finally {
      await pg.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
