import { isAbsolute, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { compileSpec, pipelineSqlScript, type FlinkTarget } from '../flink/compile-spec.ts';
import { cancelJob, deployPipeline, jdbcTarget, JobAlreadyRunningError } from '../flink/deploy.ts';
import { FlinkError } from '../flink/flink-error.ts';
import { FlinkRestClient, type JobStatus } from '../flink/flink-rest.ts';
import type { PipelineSpec } from '../spec/spec.ts';
import { stackLayout } from '../stack/layout.ts';
import { stackSettings } from '../stack/settings.ts';
import { udfJarPath } from '../stack/udf.ts';
import { openStore } from '../store/open-store.ts';
import { loadConfigFile } from './config-file.ts';
import { intFlag } from './parse-flags.ts';
import { resolveSpec, specOptions } from './spec-options.ts';
import { UsageError } from './usage-error.ts';

// A stack started on other ports (`tickflow stack up` with TICKFLOW_*_PORT) is found the same way.
const DEFAULT_GATEWAY = `http://127.0.0.1:${portFromEnv('TICKFLOW_GATEWAY_PORT', 8083)}`;
const DEFAULT_FLINK = `http://127.0.0.1:${portFromEnv('TICKFLOW_FLINK_PORT', 8081)}`;
const DEFAULT_DB = 'postgres://postgres@127.0.0.1:5432/tickflow';
const DEFAULT_JOB = 'tickflow';

interface FlinkFlags {
  gateway: string;
  flinkUrl: string;
  job: string;
  brokers?: string;
  db?: string;
  parallelism?: number;
  group?: string;
  exactlyOnce?: boolean;
  replace?: boolean;
  fromSavepoint?: string;
  fromLatestCheckpoint?: true | string;
  savepoint?: string;
  timeout: number;
  json?: boolean;
  config?: string;
  [spec: string]: unknown;
}

const out = (s: string): void => {
  process.stdout.write(`${s}\n`);
};

/** `tickflow flink sql|deploy|status|cancel|stop`: the pipeline spec on a Flink cluster. */
export function flinkCommand(): Command {
  const cmd = new Command('flink').description('run the pipeline on Apache Flink: compile the spec to Flink SQL, deploy it through the SQL Gateway');
  const endpoints = (c: Command): Command =>
    c
      .addOption(new Option('--gateway <url>', `Flink SQL Gateway (default ${DEFAULT_GATEWAY})`).env('TICKFLOW_FLINK_GATEWAY').default(DEFAULT_GATEWAY))
      .addOption(new Option('--flink-url <url>', `Flink REST API / web UI (default ${DEFAULT_FLINK})`).env('TICKFLOW_FLINK_URL').default(DEFAULT_FLINK))
      .addOption(new Option('--job <name>', `job name (default ${DEFAULT_JOB})`).env('TICKFLOW_FLINK_JOB').default(DEFAULT_JOB))
      .addOption(new Option('--timeout <seconds>', 'bound for each wait (default 120)').argParser(intFlag('--timeout', 1, 3600)).default(120));
  const pipeline = (c: Command): Command =>
    specOptions(
      c
        .addOption(new Option('--brokers <list>', 'Kafka bootstrap servers as Flink reaches them (default 127.0.0.1:9092; env KAFKA_BROKERS)'))
        .addOption(new Option('--db <url>', `PostgreSQL the job writes to (default ${DEFAULT_DB}; env DATABASE_URL)`).env('TICKFLOW_DB'))
        .addOption(new Option('--parallelism <n>', 'job parallelism (default: the input partitions; fewer makes candles and spikes unreliable while the job catches up, see docs/flink.md)').argParser(intFlag('--parallelism', 1, 256)))
        .addOption(new Option('--group <id>', 'Kafka consumer group of the job (default: the job name + "-flink")'))
        .option('--exactly-once', 'alerts topic exactly-once (Kafka transactions; alerts visible after each checkpoint)')
        .option('--config <file>', 'JSON config file (default ./tickflow.config.json if present)'),
    );

  cmd.addCommand(
    pipeline(endpoints(new Command('sql').description('print the Flink SQL of the pipeline (SET statements, tables, one EXECUTE STATEMENT SET)'))).action(
      (f: FlinkFlags, c: Command) => {
        const spec = specFor(f, c);
        // Where `tickflow stack up` builds the parser function's jar (TICKFLOW_STACK_DIR honoured).
        const jar = udfJarPath(stackLayout(stackSettings({}, process.env).dir));
        process.stdout.write(pipelineSqlScript(compileSpec(spec, targetFor(f, spec, { redact: true })), jar));
      },
    ),
  );

  cmd.addCommand(
    pipeline(endpoints(new Command('deploy').description('migrate the database, submit the pipeline as one Flink job, wait until it runs')))
      .option('--replace', 'cancel a running job of the same name first (otherwise deploy refuses)')
      .addOption(new Option('--from-savepoint <dir>', 'start from a savepoint (from `tickflow flink stop --savepoint DIR`) or a retained chk-<n> folder'))
      .addOption(
        new Option('--from-latest-checkpoint [dir]', "start from the job's newest retained checkpoint (after a JobManager loss); DIR defaults to the cluster's checkpoint folder for --job")
          .conflicts('fromSavepoint'),
      )
      .option('--json', 'print the outcome as JSON')
      .action(unreachableAsUsage(async (f: FlinkFlags, c: Command) => {
        const spec = specFor(f, c);
        const target = targetFor(f, spec, { redact: false });
        const warning = sourceParallelismWarning(target.parallelism, spec.input.partitions);
        if (warning !== null) process.stderr.write(`tickflow: warning: ${warning}\n`);
        const fromLatestCheckpoint = f.fromLatestCheckpoint === undefined || f.fromLatestCheckpoint === true
          ? f.fromLatestCheckpoint
          : /^[a-z][a-z0-9+.-]*:\//i.test(f.fromLatestCheckpoint) || isAbsolute(f.fromLatestCheckpoint) ? f.fromLatestCheckpoint : resolve(f.fromLatestCheckpoint);
        // Tables come from tickflow's migrations, never from Flink.
        const store = await openStore(dbUrl(f));
        await store.close();
        try {
          const r = await deployPipeline({ gatewayUrl: f.gateway, flinkUrl: f.flinkUrl, spec, target, replace: f.replace === true, timeoutMs: f.timeout * 1000, fromLatestCheckpoint });
          const restored = r.restoredFrom;
          if (f.json) {
            return out(JSON.stringify({
              job_id: r.jobId, job: target.jobName, replaced: r.replaced, web_ui: `${f.flinkUrl}/#/job/running/${r.jobId}`,
              ...(restored ? { restored_from: restored.path, checkpoint_id: restored.id, checkpoint_completed_at: restored.completedAt.toISOString() } : {}),
            }));
          }
          for (const old of r.replaced) out(`canceled ${old}`);
          if (restored) out(`restored checkpoint ${restored.id} of job ${restored.jobId ?? '?'} (completed ${restored.completedAt.toISOString()}): ${restored.path}`);
          out(`deployed ${target.jobName}: job ${r.jobId}, parallelism ${target.parallelism}, RUNNING`);
          out(`web UI: ${f.flinkUrl}/#/job/running/${r.jobId}/overview`);
        } catch (e) {
          if (e instanceof JobAlreadyRunningError) throw new UsageError(e.message);
          // Nothing to restore is the user's to sort out (wrong folder, no checkpoint yet): exit 2.
          if (e instanceof FlinkError && /^no completed checkpoint|^restore from|has no execution.checkpointing.dir|^cannot look for checkpoints/.test(e.message)) throw new UsageError(e.message);
          throw e;
        }
      })),
  );

  cmd.addCommand(
    endpoints(new Command('status').description('job state, uptime, records in/out and the last checkpoint (exit 3 when no job runs)'))
      .option('--json', 'print JSON')
      .action(unreachableAsUsage(async (f: FlinkFlags) => {
        const rest = new FlinkRestClient(f.flinkUrl);
        const jobs = await rest.activeJobs(f.job);
        if (jobs.length === 0) {
          if (f.json) out(JSON.stringify({ job: f.job, state: 'NOT_RUNNING' }));
          else out(`no job named "${f.job}" is running (${f.flinkUrl})`);
          process.exitCode = 3;
          return;
        }
        const statuses = await Promise.all(jobs.map((j) => rest.status(j.jid)));
        if (f.json) return out(JSON.stringify(statuses.length === 1 ? statuses[0] : statuses));
        for (const s of statuses) out(formatStatus(s, f.flinkUrl));
      })),
  );

  cmd.addCommand(
    endpoints(new Command('cancel').description('cancel the running job (its last checkpoint is retained)')).action(unreachableAsUsage(async (f: FlinkFlags) => {
      const rest = new FlinkRestClient(f.flinkUrl);
      const jobs = await rest.activeJobs(f.job);
      if (jobs.length === 0) throw new UsageError(`no job named "${f.job}" is running (${f.flinkUrl})`);
      for (const j of jobs) out(`${j.jid} ${await cancelJob(rest, j.jid, f.timeout * 1000)}`);
    })),
  );

  cmd.addCommand(
    endpoints(new Command('stop').description('stop the running job with a savepoint; resume with `deploy --from-savepoint`'))
      .addOption(new Option('--savepoint <dir>', 'directory for the savepoint (required)').makeOptionMandatory())
      .action(unreachableAsUsage(async (f: FlinkFlags) => {
        const rest = new FlinkRestClient(f.flinkUrl);
        const jobs = await rest.activeJobs(f.job);
        if (jobs.length === 0) throw new UsageError(`no job named "${f.job}" is running (${f.flinkUrl})`);
        const dir = f.savepoint!;
        // Flink writes the savepoint itself: a relative path would be relative to the JobManager.
        const target = /^[a-z][a-z0-9+.-]*:\//i.test(dir) ? dir : isAbsolute(dir) ? dir : resolve(dir);
        for (const j of jobs) out(`stopped ${j.jid}; savepoint ${await rest.stopWithSavepoint(j.jid, target, f.timeout * 1000)}`);
      })),
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

Web UI: ${DEFAULT_FLINK}   Exit codes: 0 ok, 1 failed, 2 bad flags / nothing to act on, 3 status: no job.`,
  );
  // Parse errors in a subcommand must reach main's handler (exit 2), not exit the process.
  for (const sub of cmd.commands) sub.exitOverride().showHelpAfterError('(run with --help for usage)');
  return cmd;
}

/** Flink not answering is something the user fixes (start the stack, fix the URL): exit code 2. */
function unreachableAsUsage<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (e) {
      if (e instanceof FlinkError && e.message.startsWith('cannot reach')) throw new UsageError(e.message);
      throw e;
    }
  };
}

function specFor(f: FlinkFlags, c: Command): PipelineSpec {
  const spec = resolveSpec(c, loadConfigFile(f.config));
  return f.exactlyOnce ? { ...spec, delivery: { ...spec.delivery, alerts: 'exactly-once' } } : spec;
}

function dbUrl(f: FlinkFlags): string {
  return f.db ?? process.env.DATABASE_URL ?? DEFAULT_DB;
}

function targetFor(f: FlinkFlags, spec: PipelineSpec, o: { redact: boolean }): FlinkTarget {
  let jdbc: ReturnType<typeof jdbcTarget>;
  try {
    jdbc = jdbcTarget(dbUrl(f));
  } catch (e) {
    throw new UsageError((e as FlinkError).message);
  }
  const brokers = f.brokers ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  if (!/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/.test(brokers)) throw new UsageError(`--brokers: "${brokers}" is not host:port[,host:port…]`);
  return {
    kafkaBootstrap: brokers,
    ...jdbc,
    jdbcPassword: o.redact && jdbc.jdbcPassword !== 'unused-with-trust-auth' ? '********' : jdbc.jdbcPassword,
    jobName: f.job,
    // Not the TS consumer's default group ("tickflow"): Flink commits its offsets there at
    // each checkpoint, which would move that group past its own checkpoints.
    groupId: f.group ?? `${f.job}-flink`,
    // One partition per source subtask: see sourceParallelismWarning.
    parallelism: f.parallelism ?? spec.input.partitions,
    transactionalIdPrefix: `${f.job}-alerts`,
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
  return `--parallelism ${parallelism} is below the topic's ${partitions} partitions: while the job catches up on a backlog (after a restore, or deployed onto a full topic) ` +
    'a source subtask reading several partitions judges some trades late, so candles and spike alerts can miss them (docs/flink.md); use --parallelism ' + String(partitions);
}

function portFromEnv(name: string, fallback: number): number {
  const n = Number(process.env[name]);
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : fallback;
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
