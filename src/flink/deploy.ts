import { checkRulesUnchanged, readRulesRecord, writeRulesRecord } from './rules-record.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PipelineSpec } from '../spec/spec.ts';
import { clusterCheckpointDir, jobCheckpointDir, latestCheckpoint, type RetainedCheckpoint } from './checkpoints.ts';
import { compileSpec, type FlinkTarget } from './compile-spec.ts';
import { TickflowError } from '../tickflow-error.ts';
import { FlinkRestClient, TERMINAL_STATES } from './flink-rest.ts';
import { GatewayClient } from './gateway-client.ts';

export interface FlinkEndpoints {
  /** SQL Gateway, e.g. http://127.0.0.1:8083 */
  gatewayUrl: string;
  /** JobManager REST / web UI, e.g. http://127.0.0.1:8081 */
  flinkUrl: string;
}

export interface DeployOptions extends FlinkEndpoints {
  spec: PipelineSpec;
  target: FlinkTarget;
  /** Cancel a running job of the same name first (otherwise deploying refuses). */
  replace?: boolean;
  /** Bound for the job (all its tasks) to be RUNNING. */
  timeoutMs?: number;
  /**
   * Restore the newest retained checkpoint: `true` looks in this job name's checkpoint folder on
   * the cluster (the JobManager's `execution.checkpointing.dir`/<job name>), a string in that
   * folder instead. Fails when there is none. Excludes `target.fromSavepoint`.
   */
  fromLatestCheckpoint?: true | string | undefined;
  /** Readies the job's database (tickflow's migrations), once the gateway has answered. */
  prepare?: () => Promise<void>;
}

export interface DeployResult {
  jobId: string;
  replaced: string[];
  /** The checkpoint the job was restored from (fromLatestCheckpoint). */
  restoredFrom?: RetainedCheckpoint;
}

/**
 * Compile the spec and submit it through the SQL Gateway as one job; wait until its tasks run.
 * Idempotent by name: a running job called `target.jobName` makes this refuse unless `replace`.
 */
export async function deployPipeline(o: DeployOptions): Promise<DeployResult> {
  const rest = new FlinkRestClient(o.flinkUrl);
  const gateway = new GatewayClient(o.gatewayUrl);
  const timeoutMs = o.timeoutMs ?? 90_000;
  await gateway.info(); // fail fast, with the gateway's address, before anything else
  await o.prepare?.();

  const running = await rest.activeJobs(o.target.jobName);
  if (running.length > 0 && o.replace !== true) {
    const j = running[0]!;
    // A second copy would double every alert: deploy refuses unless asked to replace.
    throw new TickflowError(
      'flink_job_running',
      `a job named "${o.target.jobName}" is already ${j.state} (id ${j.jid}, since ${new Date(j['start-time']).toISOString()}); ` +
        'use --replace to cancel it and start the new one, or `tickflow flink cancel` first',
    );
  }
  const replaced: string[] = [];
  for (const j of running) {
    await cancelJob(rest, j.jid, timeoutMs);
    replaced.push(j.jid);
  }

  // One checkpoint folder per job name: after a JobManager loss (no HA) nothing else remembers
  // which job id the job had, and so where its last checkpoint is.
  const clusterDir = clusterCheckpointDir(await rest.clusterConfig());
  const checkpointDir = o.target.checkpointDir ?? (clusterDir === null ? undefined : jobCheckpointDir(clusterDir, o.target.jobName));
  let restoredFrom: RetainedCheckpoint | undefined;
  if (o.fromLatestCheckpoint !== undefined) {
    if (o.target.fromSavepoint !== undefined) throw new TickflowError('bad_flag', 'restore from a savepoint or from the latest checkpoint, not both');
    const where = typeof o.fromLatestCheckpoint === 'string' ? o.fromLatestCheckpoint : checkpointDir;
    if (where === undefined)
      throw new TickflowError(
        'flink_nothing_to_restore',
        'the JobManager has no execution.checkpointing.dir; give the checkpoint folder (--from-latest-checkpoint DIR)',
      );
    const latest = await latestCheckpoint(where);
    if (latest === null) throw new TickflowError('flink_nothing_to_restore', `no completed checkpoint (chk-<n>/_metadata) under ${where}`);
    restoredFrom = latest;
  }
  const target: FlinkTarget = { ...o.target, checkpointDir, fromSavepoint: restoredFrom?.path ?? o.target.fromSavepoint };
  if (target.fromSavepoint !== undefined) checkRulesUnchanged(readRulesRecord(target.fromSavepoint), o.spec.rules, target.fromSavepoint);
  const compiled = compileSpec(o.spec, target);
  const session = await gateway.openSession(`tickflow-deploy-${Date.now()}`, Object.fromEntries(compiled.settings));
  let jobId: string | null = null;
  try {
    for (const statement of [...compiled.functions, ...compiled.ddl]) await session.execute(statement, { timeoutMs: 60_000 });
    // Planning grows with the rules (each a few views): minutes on a small, busy JobManager.
    const r = await session.execute(compiled.statementSet, { timeoutMs: 300_000 });
    jobId = r.jobId;
  } finally {
    await session.closeSession();
  }
  if (jobId === null) throw new TickflowError('flink_failed', 'the SQL Gateway accepted the statement set but returned no job id');
  try {
    await rest.waitForTasksRunning(jobId, timeoutMs);
  } catch (e) {
    // A job that cannot start would restart forever and hold slots: take it down, report why.
    await rest.cancel(jobId).catch(() => {});
    throw e;
  }
  if (checkpointDir !== undefined) writeRulesRecord(checkpointDir, o.spec.rules);
  return restoredFrom === undefined ? { jobId, replaced } : { jobId, replaced, restoredFrom };
}

/** Cancel and wait until the job is gone (terminal). */
export async function cancelJob(rest: FlinkRestClient, jobId: string, timeoutMs = 60_000): Promise<string> {
  await rest.cancel(jobId);
  const deadline = Date.now() + timeoutMs;
  let state = '';
  while (Date.now() < deadline) {
    state = await rest.jobState(jobId);
    if (TERMINAL_STATES.has(state)) return state;
    await sleep(250);
  }
  throw new TickflowError('flink_failed', `job ${jobId} still ${state} ${Math.round(timeoutMs / 1000)} s after cancel`);
}

/** postgres://user:pw@host:port/db → the JDBC connector's url, username and password. */
export function jdbcTarget(postgresUrl: string): { jdbcUrl: string; jdbcUser: string; jdbcPassword: string } {
  let u: URL;
  try {
    u = new URL(postgresUrl);
  } catch {
    throw new TickflowError('bad_config', `--db: "${postgresUrl.slice(0, 60)}" is not a PostgreSQL URL`);
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new TickflowError('bad_config', `--db: Flink writes to PostgreSQL; "${u.protocol}" URLs are not supported (use postgres://user@host:5432/db)`);
  }
  const params = new URLSearchParams(u.search);
  // Lets the driver send a batch of upserts as multi-row statements: fewer round trips.
  params.set('reWriteBatchedInserts', 'true');
  return {
    jdbcUrl: `jdbc:postgresql://${u.host}${u.pathname}?${params.toString()}`,
    jdbcUser: decodeURIComponent(u.username) || 'postgres',
    // The connector wants both or neither; with trust auth any password is accepted.
    jdbcPassword: decodeURIComponent(u.password) || 'unused-with-trust-auth',
  };
}
