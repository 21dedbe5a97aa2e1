import { clusterCheckpointDir, jobCheckpointDir } from '../flink/checkpoints.ts';
import { copyRulesRecord } from '../flink/rules-record.ts';
import { isAbsolute, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { compileSpec, pipelineSqlScript, type FlinkTarget } from '../flink/compile-spec.ts';
import { cancelJob, deployPipeline, jdbcTarget } from '../flink/deploy.ts';
import { FlinkRestClient, type JobStatus } from '../flink/flink-rest.ts';
import type { PipelineSpec } from '../spec/spec.ts';
import { stackLayout } from '../stack/layout.ts';
import { stackSettingsFrom } from '../stack/settings.ts';
import { udfJarPath } from '../stack/udf.ts';
import { openStore } from '../store/open-store.ts';
import { TickflowError } from '../tickflow-error.ts';
import { addSettings, layersOf, SPEC_OVERRIDE_KEYS, settingsOf, specOf } from './options.ts';
import { intFlag } from './parse-flags.ts';

/** Flags of one invocation; the endpoints, job name and pipeline settings are resolved by settingsOf. */
interface FlinkFlags {
  exactlyOnce?: boolean;
  replace?: boolean;
  fromSavepoint?: string;
  fromLatestCheckpoint?: true | string;
  savepoint?: string;
  timeout: number;
  json?: boolean;
}

const endpointsOf = (c: Command) => settingsOf(c, ['gateway', 'flinkUrl', 'job']);

const out = (s: string): void => {
  process.stdout.write(`${s}\n`);
};

/** `tickflow flink sql|deploy|status|cancel|stop`: the pipeline spec on a Flink cluster. */
export function flinkCommand(): Command {
  const cmd = new Command('flink').description('run the pipeline on Apache Flink: compile the spec to Flink SQL, deploy it through the SQL Gateway');
  const endpoints = (c: Command): Command =>
    addSettings(c, ['config', 'gateway', 'flinkUrl', 'job']).addOption(
      new Option('--timeout <seconds>', 'bound for each wait').argParser(intFlag('--timeout', 1, 3600)).default(120),
    );
  const pipeline = (c: Command): Command =>
    addSettings(c, ['specFile', 'rulesFile', ...SPEC_OVERRIDE_KEYS, 'brokers', 'jobDb', 'parallelism', 'jobGroup']).option(
      '--exactly-once',
      'alerts topic exactly-once (Kafka transactions; alerts visible after each checkpoint)',
    );

  cmd.addCommand(
    pipeline(endpoints(new Command('sql').description('print the Flink SQL of the pipeline (SET statements, tables, one EXECUTE STATEMENT SET)'))).action(
      (f: FlinkFlags, c: Command) => {
        const spec = specFor(f, c);
        // Where `tickflow stack up` builds the parser function's jar (TICKFLOW_STACK_DIR honoured).
        const jar = udfJarPath(stackLayout(stackSettingsFrom(layersOf(c)).dir));
        process.stdout.write(pipelineSqlScript(compileSpec(spec, targetFor(c, spec, { redact: true })), jar));
      },
    ),
  );

  cmd.addCommand(
    pipeline(endpoints(new Command('deploy').description('migrate the database, submit the pipeline as one Flink job, wait until it runs')))
      .option('--replace', 'cancel a running job of the same name first (otherwise deploy refuses)')
      .addOption(new Option('--from-savepoint <dir>', 'start from a savepoint (from `tickflow flink stop --savepoint DIR`) or a retained chk-<n> folder'))
      .addOption(
        new Option(
          '--from-latest-checkpoint [dir]',
          "start from the job's newest retained checkpoint (after a JobManager loss); DIR defaults to the cluster's checkpoint folder for --job",
        ).conflicts('fromSavepoint'),
      )
      .option('--json', 'print the outcome as JSON')
      .action(async (f: FlinkFlags, c: Command) => {
        const spec = specFor(f, c);
        const target = targetFor(c, spec, { redact: false });
        const e = endpointsOf(c);
        const warning = sourceParallelismWarning(target.parallelism, spec.input.partitions);
        if (warning !== null) process.stderr.write(`tickflow: warning: ${warning}\n`);
        const fromLatestCheckpoint =
          f.fromLatestCheckpoint === undefined || f.fromLatestCheckpoint === true
            ? f.fromLatestCheckpoint
            : /^[a-z][a-z0-9+.-]*:\//i.test(f.fromLatestCheckpoint) || isAbsolute(f.fromLatestCheckpoint)
              ? f.fromLatestCheckpoint
              : resolve(f.fromLatestCheckpoint);
        const r = await deployPipeline({
          // Tables come from tickflow's migrations, never from Flink.
          prepare: async () => {
            const store = await openStore(settingsOf(c, ['jobDb']).jobDb);
            await store.close();
          },
          gatewayUrl: e.gateway,
          flinkUrl: e.flinkUrl,
          spec,
          target,
          replace: f.replace === true,
          timeoutMs: f.timeout * 1000,
          fromLatestCheckpoint,
        });
        const restored = r.restoredFrom;
        if (f.json) {
          return out(
            JSON.stringify({
              job_id: r.jobId,
              job: target.jobName,
              replaced: r.replaced,
              web_ui: `${e.flinkUrl}/#/job/running/${r.jobId}`,
              ...(restored ? { restored_from: restored.path, checkpoint_id: restored.id, checkpoint_completed_at: restored.completedAt.toISOString() } : {}),
            }),
          );
        }
        for (const old of r.replaced) out(`canceled ${old}`);
        if (restored)
          out(`restored checkpoint ${restored.id} of job ${restored.jobId ?? '?'} (completed ${restored.completedAt.toISOString()}): ${restored.path}`);
        out(`deployed ${target.jobName}: job ${r.jobId}, parallelism ${target.parallelism}, RUNNING`);
        out(`web UI: ${e.flinkUrl}/#/job/running/${r.jobId}/overview`);
      }),
  );

  cmd.addCommand(
    endpoints(new Command('status').description('job state, uptime, records in/out and the last checkpoint (exit 3 when no job runs)'))
      .option('--json', 'print JSON')
      .action(async (f: FlinkFlags, c: Command) => {
        const e = endpointsOf(c);
        const rest = new FlinkRestClient(e.flinkUrl);
        const jobs = await rest.activeJobs(e.job);
        if (jobs.length === 0) {
          if (f.json) out(JSON.stringify({ job: e.job, state: 'NOT_RUNNING' }));
          throw new TickflowError('not_running', `no job named "${e.job}" is running (${e.flinkUrl})`);
        }
        const statuses = await Promise.all(jobs.map((j) => rest.status(j.jid)));
        if (f.json) return out(JSON.stringify(statuses.length === 1 ? statuses[0] : statuses));
        for (const s of statuses) out(formatStatus(s, e.flinkUrl));
      }),
  );

  cmd.addCommand(
    endpoints(new Command('cancel').description('cancel the running job (its last checkpoint is retained)')).action(async (f: FlinkFlags, c: Command) => {
      const e = endpointsOf(c);
      const rest = new FlinkRestClient(e.flinkUrl);
      const jobs = await rest.activeJobs(e.job);
      if (jobs.length === 0) throw new TickflowError('flink_no_job', `no job named "${e.job}" is running (${e.flinkUrl})`);
      for (const j of jobs) out(`${j.jid} ${await cancelJob(rest, j.jid, f.timeout * 1000)}`);
    }),
  );

  cmd.addCommand(
    endpoints(new Command('stop').description('stop the running job with a savepoint; resume with `deploy --from-savepoint`'))
      .addOption(new Option('--savepoint <dir>', 'directory for the savepoint (required)').makeOptionMandatory())
      .action(async (f: FlinkFlags, c: Command) => {
        const e = endpointsOf(c);
        const rest = new FlinkRestClient(e.flinkUrl);
        const jobs = await rest.activeJobs(e.job);
        if (jobs.length === 0) throw new TickflowError('flink_no_job', `no job named "${e.job}" is running (${e.flinkUrl})`);
        const dir = f.savepoint!;
        // Flink writes the savepoint itself: a relative path would be relative to the JobManager.
        const target = /^[a-z][a-z0-9+.-]*:\//i.test(dir) ? dir : isAbsolute(dir) ? dir : resolve(dir);
        const clusterDir = clusterCheckpointDir(await rest.clusterConfig());
        for (const j of jobs) {
          const savepoint = await rest.stopWithSavepoint(j.jid, target, f.timeout * 1000);
          // The savepoint carries the rules its state belongs to (src/flink/rules-record.ts).
          if (clusterDir !== null) copyRulesRecord(jobCheckpointDir(clusterDir, e.job), savepoint);
          out(`stopped ${j.jid}; savepoint ${savepoint}`);
        }
      }),
  );

  cmd.addHelpText(
    'after',
    `
Examples:
  tickflow stack up && tickflow topics create
  tickflow flink sql                         print the job's SQL
  tickflow flink deploy                      migrate, submit, wait for RUNNING (refuses a second copy)
  tickflow flink status                      state, uptime, records, last checkpoint
  tickflow flink stop --savepoint /tmp/sp    then: tickflow flink deploy --from-savepoint /tmp/sp/savepoint-…
  tickflow flink deploy --from-latest-checkpoint   after a JobManager restart: resume from the newest retained checkpoint
  tickflow flink cancel

Web UI: the --flink-url   Exit codes: 0 ok, 1 failed, 2 bad flags / unreachable / nothing to act on, 3 status: no job.`,
  );
  return cmd;
}

function specFor(f: FlinkFlags, c: Command): PipelineSpec {
  const spec = specOf(c);
  return f.exactlyOnce ? { ...spec, delivery: { ...spec.delivery, alerts: 'exactly-once' } } : spec;
}

function targetFor(c: Command, spec: PipelineSpec, o: { redact: boolean }): FlinkTarget {
  const s = settingsOf(c, ['jobDb', 'brokers', 'job', 'jobGroup', 'parallelism']);
  const f = c.opts<FlinkFlags>();
  const jdbc = jdbcTarget(s.jobDb);
  return {
    kafkaBootstrap: s.brokers.join(','),
    ...jdbc,
    jdbcPassword: o.redact && jdbc.jdbcPassword !== 'unused-with-trust-auth' ? '********' : jdbc.jdbcPassword,
    jobName: s.job,
    // Not the TS consumer's default group ("tickflow"): Flink commits its offsets there at
    // each checkpoint, which would move that group past its own checkpoints.
    groupId: s.jobGroup ?? `${s.job}-flink`,
    // One partition per source subtask: see sourceParallelismWarning.
    parallelism: s.parallelism ?? spec.input.partitions,
    transactionalIdPrefix: `${s.job}-alerts`,
    fromSavepoint: f.fromSavepoint,
  };
}

/**
 * A source subtask that reads several partitions starts a partition's watermark only when that
 * partition's first record arrives, and its Kafka consumer hands over one partition's fetched
 * backlog before the next one's: while it catches up (after a restore, or deployed onto a full
 * topic) the watermark follows the first partition, and the others' trades arrive late.
 */
export function sourceParallelismWarning(parallelism: number, partitions: number): string | null {
  if (parallelism >= partitions) return null;
  return (
    `--parallelism ${parallelism} is below the topic's ${partitions} partitions: while the job catches up on a backlog (after a restore, or deployed onto a full topic) ` +
    'a source subtask reading several partitions judges some trades late, so candles and spike alerts can miss them (docs/flink.md); use --parallelism ' +
    String(partitions)
  );
}

function formatStatus(s: JobStatus, flinkUrl: string): string {
  const cp = s.checkpoints.last;
  const ago = (ms: number): string => `${Math.max(0, Math.round((Date.now() - ms) / 1000))} s ago`;
  return [
    `${s.name}  ${s.state}  job ${s.id}  parallelism ${s.parallelism}`,
    `  uptime       ${formatDuration(s.uptimeMs)}`,
    `  records      in ${s.recordsIn.toLocaleString('en-US')}  out ${s.recordsOut.toLocaleString('en-US')}`,
    `  checkpoints  ${s.checkpoints.completed} completed, ${s.checkpoints.failed} failed${cp ? `; last #${cp.id} ${ago(cp.latestAckTimestamp)}, ${cp.durationMs} ms, ${Math.round(cp.stateSize / 1024)} KiB` : '; none yet'}`,
    ...(s.lastException ? [`  last failure ${s.lastException}`] : []),
    `  web UI       ${flinkUrl}/#/job/running/${s.id}/overview`,
  ].join('\n');
}

function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s % 60} s` : `${s} s`;
}
