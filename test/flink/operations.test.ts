import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tickflow } from '../support/cli.ts';
import { countRows } from '../support/postgres.ts';
import { produceLines } from '../support/stack.ts';
import { waitFor } from '../support/wait.ts';
import { expectNoJobsLeft, stopJob, endpoints, freshSpec, kafkaBootstrap, migratedDatabase, rest } from './flink-support.ts';

/**
 * The CLI as a user runs it against the real stack: deploy is idempotent by job name, status
 * reports the job, malformed input never fails it, cancel takes it away, a wrong gateway URL
 * gives one clear line.
 */
let db: { url: string; drop: () => Promise<void> };
let name: string;
let topic: string;
let jobId: string | undefined;
let flags: string[];

beforeAll(async () => {
  const fresh = await freshSpec('tfops');
  name = fresh.name;
  topic = fresh.spec.input.topic;
  db = await migratedDatabase('tf_ops');
  const alerts = fresh.spec.topics.alerts;
  const dlq = fresh.spec.topics.deadLetters;
  const spec = JSON.stringify({ input: { topic }, topics: { alerts, deadLetters: dlq } });
  const specFile = `/tmp/${name}.spec.json`;
  await import('node:fs').then((fs) => fs.writeFileSync(specFile, spec));
  flags = [
    '--job',
    name,
    '--db',
    db.url,
    '--brokers',
    kafkaBootstrap,
    '--gateway',
    endpoints.gatewayUrl,
    '--flink-url',
    endpoints.flinkUrl,
    '--spec',
    specFile,
    '--parallelism',
    '3',
    '--timeout',
    '180',
  ];
});

afterAll(async () => {
  await stopJob(jobId, name);
  await db?.drop();
  await expectNoJobsLeft();
});

describe('tickflow flink (CLI) against the stack', () => {
  it('deploy starts one job; a second deploy refuses with exit 2', async () => {
    const first = await tickflow(['flink', 'deploy', '--json', ...flags], { timeoutMs: 300_000 });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    jobId = (JSON.parse(first.stdout) as { job_id: string }).job_id;
    expect(await rest.jobState(jobId)).toBe('RUNNING');

    const second = await tickflow(['flink', 'deploy', ...flags], { timeoutMs: 120_000 });
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`a job named "${name}" is already RUNNING (id ${jobId}`);
    expect((await rest.activeJobs(name)).map((j) => j.jid)).toEqual([jobId]);
  });

  it('malformed records land in the dead letters and the job keeps running', async () => {
    const bad = [
      'not json',
      '{"trade_id":"x"',
      '[1]',
      '{"trade_id":"t","ticker":"AAPL","price":"1.5","volume":-1,"trade_timestamp":"2026-11-25T00:00:00Z"}',
      '\u00ff\u00fe garbage',
    ];
    const good = '{"trade_id":"ops-1","ticker":"AAPL","price":"187.2300","volume":1200,"trade_timestamp":"2026-11-25T06:01:02.123Z"}';
    await produceLines(topic, [...bad, good]);
    let seen = '';
    await waitFor(
      async () => {
        const dl = await countRows(db.url, 'dead_letters');
        const trades = await countRows(db.url, 'stock_trades');
        seen = `dead_letters ${dl}/${bad.length}, stock_trades ${trades}/1`;
        return dl === bad.length && trades === 1;
      },
      { what: 'the dead letters and the valid trade', timeoutMs: 90_000, everyMs: 1_000, context: () => seen },
    );
    expect(await rest.jobState(jobId!)).toBe('RUNNING');
    expect(await rest.lastException(jobId!)).toBeNull();
  });

  it('status reports the running job, its records and checkpoints', async () => {
    await waitFor(async () => (await rest.status(jobId!)).checkpoints.completed > 0, { what: 'a completed checkpoint', timeoutMs: 60_000, everyMs: 1_000 });
    type Status = { id: string; state: string; parallelism: number; recordsIn: number; checkpoints: { completed: number } };
    // The JobManager refreshes task metrics on its own schedule (metrics.fetcher.update-interval,
    // 10 s by default): a status taken right after the records passed can still say 0.
    let seen = '';
    const s = await waitFor(
      async () => {
        const r = await tickflow(['flink', 'status', '--json', '--job', name, '--flink-url', endpoints.flinkUrl]);
        if (r.code !== 0) {
          seen = `exit ${r.code}: ${r.stderr.trim()}`;
          return null;
        }
        const status = JSON.parse(r.stdout) as Status;
        seen = `recordsIn ${status.recordsIn}`;
        return status.recordsIn >= 1 ? status : null;
      },
      { what: 'status to show the records', timeoutMs: 60_000, everyMs: 1_000, context: () => seen },
    );
    expect(s).toMatchObject({ id: jobId, state: 'RUNNING', parallelism: 3 });
    // Records leaving the source task (its chain filters and splits them), so at least the valid trade.
    expect(s.recordsIn).toBeGreaterThanOrEqual(1);
    expect(s.checkpoints.completed).toBeGreaterThan(0);
  });

  it('cancel takes the job away; status then exits 3', async () => {
    const r = await tickflow(['flink', 'cancel', '--job', name, '--flink-url', endpoints.flinkUrl]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${jobId} CANCELED`);
    expect(await rest.jobState(jobId!)).toBe('CANCELED');
    expect(await rest.activeJobs(name)).toEqual([]);
    const s = await tickflow(['flink', 'status', '--job', name, '--flink-url', endpoints.flinkUrl]);
    expect(s.code).toBe(3);
  });

  it('deploy --from-latest-checkpoint with nothing to restore is one line and exit 2; with --from-savepoint, a usage error', async () => {
    const empty = await import('node:fs').then((fs) => fs.mkdtempSync('/tmp/tickflow-no-checkpoints-'));
    const r = await tickflow(['flink', 'deploy', ...flags, '--from-latest-checkpoint', empty], { timeoutMs: 120_000 });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`tickflow: no completed checkpoint (chk-<n>/_metadata) under ${empty} [flink_nothing_to_restore]`);
    expect(await rest.activeJobs(name)).toEqual([]);
    const both = await tickflow(['flink', 'deploy', ...flags, '--from-latest-checkpoint', '--from-savepoint', empty], { timeoutMs: 60_000 });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--from-latest-checkpoint.*cannot be used with.*--from-savepoint/);
  });

  it('a wrong gateway URL is one clear line and exit 2', async () => {
    const r = await tickflow(['flink', 'deploy', ...flags, '--gateway', 'http://127.0.0.1:59999'], { timeoutMs: 60_000 });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'tickflow: cannot reach the Flink SQL Gateway at http://127.0.0.1:59999: connection refused (is `tickflow stack up` running?) [flink_unreachable]',
    );
  });
});
