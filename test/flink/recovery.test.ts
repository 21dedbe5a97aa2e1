import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineSpec } from '../../src/spec/spec.ts';
import { dirtyFeed } from '../../src/simulate/dirty-feed.ts';
import { startComponent, startTaskManager, stopComponent } from '../../src/stack/stack.ts';
import { parseTradeText } from '../../src/trade/parse.ts';
import { tickflow } from '../support/cli.ts';
import { oracle } from '../support/oracle.ts';
import { countRows, readTables } from '../support/postgres.ts';
import { bySize } from '../support/soak.ts';
import { produceLines } from '../support/stack.ts';
import { waitFor } from '../support/wait.ts';
import {
  expectNoJobsLeft,
  stopJob,
  deployForTest,
  endpoints,
  freshSpec,
  kafkaBootstrap,
  kafkaPartition,
  keyedByTicker,
  migratedDatabase,
  rest,
  settings,
} from './flink-support.ts';

/**
 * Trades flow while a Flink process dies. The job comes back from its last checkpoint and
 * replays from the checkpointed offsets; PostgreSQL must end with exactly the distinct valid
 * trades, the complete large-trade alert set and the same closed candles as the
 * naive oracle — none lost, none counted twice (a candle counted twice would show in its volume
 * and trade_count, one with trades missing in its trade_count).
 */
interface Scenario {
  spec: PipelineSpec;
  name: string;
  db: { url: string; drop: () => Promise<void> };
  /** The feed, sentinels last. */
  lines: string[];
  sentinels: Set<string>;
}

async function scenario(prefix: string, seed: number, startMs: number, count: number): Promise<Scenario> {
  const { spec, name } = await freshSpec(prefix, { delivery: { checkpointIntervalMs: 2_000 } });
  const db = await migratedDatabase(prefix);
  const lines = [...dirtyFeed({ seed, count, startMs, stepMs: 50, late: 0, largeFraction: 0.02 })];
  const lastTs = Math.max(
    ...lines.map((l) => {
      const r = parseTradeText(l);
      return r.ok === true ? r.trade.tsMs : 0;
    }),
  );
  // One trade an hour later on every partition moves every partition's watermark past the data,
  // so all windows of the feed close (a Kafka stream has no end of input).
  const byPartition = new Map<number, string>();
  for (let i = 0; byPartition.size < spec.input.partitions; i++) byPartition.set(kafkaPartition(`ZZ${i}`, spec.input.partitions), `ZZ${i}`);
  const sentinels = new Set(byPartition.values());
  for (const [i, t] of [...sentinels].entries()) {
    lines.push(
      JSON.stringify({ trade_id: `sentinel-${t}`, ticker: t, price: '1', volume: 1, trade_timestamp: new Date(lastTs + 3_600_000 + i).toISOString() }),
    );
  }
  return { spec, name, db, lines, sentinels };
}

/**
 * Sends the feed (sentinels excluded) in chunks; `fault` runs after chunk `faultAfter`, while the
 * producer goes on. Then the sentinels.
 */
async function stream(s: Scenario, chunks: number, faultAfter: number, fault: () => Promise<void>): Promise<void> {
  const keyed = keyedByTicker(s.lines.slice(0, -s.sentinels.size));
  const size = Math.ceil(keyed.length / chunks);
  for (let c = 0; c < chunks; c++) {
    await produceLines(s.spec.input.topic, keyed.slice(c * size, (c + 1) * size), { keyed: true });
    if (c === faultAfter) await fault();
  }
  await produceLines(s.spec.input.topic, keyedByTicker(s.lines.slice(-s.sentinels.size)), { keyed: true });
}

/** Waits for the end state and compares it with the oracle; returns the closed-candle comparison. */
async function expectExact(s: Scenario, jobId: string): Promise<{ candles: string[]; expected: string[] }> {
  const expected = oracle(
    s.lines.map((l) => Buffer.from(l)),
    'x',
    s.spec,
  );
  const closed = expected.candles.filter((c) => !s.sentinels.has(c.split('|')[0]!));
  let seen = '';
  await waitFor(
    async () => {
      const [trades, state] = [await countRows(s.db.url, 'stock_trades'), await rest.jobState(jobId)];
      seen = `stock_trades ${trades}/${expected.trades.length}, job ${state}`;
      return trades === expected.trades.length && state === 'RUNNING';
    },
    { what: 'the job to recover and store every distinct trade', timeoutMs: bySize(240_000, 900_000), everyMs: 1_000, context: () => seen },
  );
  // The last windows close once the sentinels' watermark arrives; a wrong candle shows in the comparison, not here.
  await waitFor(async () => (await countRows(s.db.url, 'trade_candles')) >= closed.length, { what: 'closed windows', timeoutMs: 30_000, everyMs: 1_000 }).catch(
    () => {},
  );
  const actual = await readTables(s.db.url);
  expect(actual.trades).toEqual(expected.trades);
  // Spike alerts depend on the order of equal timestamps, which a replay can change (docs/flink.md).
  expect(actual.alerts.filter((a) => a.startsWith('large:'))).toEqual(expected.alerts.filter((a) => a.startsWith('large:')));
  return { candles: actual.candles.filter((c) => !s.sentinels.has(c.split('|')[0]!)), expected: closed };
}

/** The id of the checkpoint the job last restored, 0 if it never restored one. */
async function restoredCheckpoint(jobId: string): Promise<number> {
  const r = await fetch(`${rest.url}/jobs/${jobId}/checkpoints`).then((res) => res.json() as Promise<{ latest: { restored: { id: number } | null } }>);
  return r.latest.restored?.id ?? 0;
}

async function waitForCheckpoints(jobId: string, n: number): Promise<void> {
  await waitFor(async () => (await rest.status(jobId)).checkpoints.completed >= n, { what: `${n} completed checkpoints`, timeoutMs: 60_000, everyMs: 1_000 });
}

afterAll(async () => {
  // Whatever happened, leave a whole cluster for the files that run next.
  await startComponent(settings, 'jobmanager').catch(() => {});
  const overview = await rest.overview().catch(() => null);
  if (overview !== null && overview.taskmanagers === 0) await startTaskManager(settings).catch(() => {});
  await expectNoJobsLeft();
});

describe('recovery: the TaskManager is killed mid-stream', () => {
  let s: Scenario;
  let jobId: string | undefined;
  let candles: { candles: string[]; expected: string[] } | undefined;

  beforeAll(async () => {
    s = await scenario('tf_rec', 9, Date.UTC(2026, 10, 25, 15, 0, 0), bySize(3_000, 20_000));
  });
  afterAll(async () => {
    await stopJob(jobId, s?.name);
    await s?.db.drop();
  });

  it(
    'ends with exactly the distinct valid trades and large-trade alerts',
    async () => {
      jobId = await deployForTest(s.spec, s.name, s.db.url, s.spec.input.partitions);
      await stream(s, 6, 2, async () => {
        // Let a checkpoint complete with data in flight, then kill.
        await waitForCheckpoints(jobId!, 2);
        expect(await countRows(s.db.url, 'stock_trades')).toBeGreaterThan(0);
        await stopComponent(settings, 'taskmanager', { signal: 'SIGKILL' });
        // The fault lasts a moment (no TaskManager at all), as a crashed machine's does; nothing
        // waits on it.
        await sleep(1_000);
        const t0 = Date.now();
        await startTaskManager(settings);
        process.stderr.write(`[recovery] new TaskManager registered ${Math.round((Date.now() - t0) / 100) / 10} s after the kill\n`);
      });
      candles = await expectExact(s, jobId);
      // It really did restart from a checkpoint. The latest exception is the lost TaskManager, or a
      // restart attempt that found no slots before the new TaskManager registered.
      expect(await restoredCheckpoint(jobId)).toBeGreaterThan(0);
      expect(await rest.lastException(jobId)).toMatch(/TaskManager|heartbeat|lost|disconnected|Connection|NoResourceAvailable/i);
    },
    bySize(600_000, 1_800_000),
  );

  it('closed candles after the crash equal the oracle', () => {
    expect(candles).toBeDefined();
    expect(candles!.candles).toEqual(candles!.expected);
  });
});

describe('recovery: the JobManager is killed mid-stream (no HA) and the job resumed from its latest checkpoint', () => {
  let s: Scenario;
  let jobId: string | undefined;
  let resumedId: string | undefined;
  const specDir = mkdtempSync(join(tmpdir(), 'tickflow-jm-'));

  beforeAll(async () => {
    s = await scenario('tf_jm', 13, Date.UTC(2026, 10, 25, 17, 0, 0), bySize(2_400, 15_000));
  });
  afterAll(async () => {
    await stopJob(resumedId);
    await stopJob(jobId, s?.name);
    await s?.db.drop();
  });

  it(
    '`tickflow stack up` restarts the JobManager, `flink deploy --from-latest-checkpoint` resumes: trades, large alerts and candles exact',
    async () => {
      jobId = await deployForTest(s.spec, s.name, s.db.url, s.spec.input.partitions);
      const specFile = join(specDir, 'spec.json');
      writeFileSync(specFile, JSON.stringify(s.spec));
      await stream(s, 4, 1, async () => {
        await waitForCheckpoints(jobId!, 2);
        expect(await countRows(s.db.url, 'stock_trades')).toBeGreaterThan(0);
        await stopComponent(settings, 'jobmanager', { signal: 'SIGKILL' });
        const t0 = Date.now();
        // What an operator runs: `up` starts what is missing and waits until every component answers.
        const up = await tickflow(['stack', 'up', '--no-postgres'], { timeoutMs: 240_000 });
        expect(up.code, up.stderr).toBe(0);
        expect(up.stdout).toMatch(/jobmanager\s+starting/);
        const upSeconds = (Date.now() - t0) / 1000;
        const deploy = await tickflow(
          [
            'flink',
            'deploy',
            '--from-latest-checkpoint',
            '--spec',
            specFile,
            '--job',
            s.name,
            '--group',
            s.name,
            '--db',
            s.db.url,
            '--brokers',
            kafkaBootstrap,
            '--gateway',
            endpoints.gatewayUrl,
            '--flink-url',
            endpoints.flinkUrl,
            '--json',
            '--timeout',
            '180',
          ],
          { timeoutMs: 240_000 },
        );
        expect(deploy.code, deploy.stderr).toBe(0);
        const result = JSON.parse(deploy.stdout) as { job_id: string; restored_from: string; checkpoint_id: number };
        resumedId = result.job_id;
        expect(result.restored_from).toMatch(new RegExp(`/${s.name}/${jobId}/chk-\\d+$`));
        process.stderr.write(
          `[recovery] JobManager back (stack up) in ${upSeconds.toFixed(1)} s; job resumed from checkpoint ${result.checkpoint_id} ${((Date.now() - t0) / 1000).toFixed(1)} s after the kill\n`,
        );
      });
      expect(resumedId).toBeDefined();
      const { candles, expected } = await expectExact(s, resumedId!);
      expect(candles).toEqual(expected);
      // The resumed job started from the checkpoint, not from scratch.
      expect(await restoredCheckpoint(resumedId!)).toBeGreaterThan(0);
    },
    bySize(600_000, 1_800_000),
  );
});
