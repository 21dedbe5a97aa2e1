import { setTimeout as sleep } from 'node:timers/promises';
import { TickflowError } from '../tickflow-error.ts';
import { rootCause } from './flink-error.ts';
import { networkReason } from './gateway-client.ts';

export interface JobOverview {
  jid: string;
  name: string;
  state: string;
  'start-time': number;
  'end-time': number;
  duration: number;
}

interface JobVertex {
  id: string;
  name: string;
  parallelism: number;
  status: string;
  metrics: { 'read-records': number; 'write-records': number; 'read-records-complete': boolean };
}

export interface JobDetails {
  jid: string;
  name: string;
  state: string;
  'start-time': number;
  duration: number;
  now: number;
  vertices: JobVertex[];
}

export interface CheckpointSummary {
  id: number;
  status: string;
  latestAckTimestamp: number;
  durationMs: number;
  stateSize: number;
  externalPath: string | null;
}

export interface JobStatus {
  id: string;
  name: string;
  state: string;
  uptimeMs: number;
  parallelism: number;
  /** Records that left the source task (after its chained validation/split: not the raw Kafka count). */
  recordsIn: number;
  /** Records that reached the sink tasks (the four tables and two topics together). */
  recordsOut: number;
  checkpoints: { completed: number; failed: number; inProgress: number; last: CheckpointSummary | null };
  /** Root cause of the latest failure, if any. */
  lastException: string | null;
}

/** How hard one vertex (a chain of operators) works, summed over its subtasks, in ms per second. */
export interface VertexLoad {
  id: string;
  name: string;
  parallelism: number;
  /** Σ busyTimeMsPerSecond: 1000 = one subtask fully busy. */
  busyMsPerS: number;
  /** Σ backPressuredTimeMsPerSecond: time spent waiting for downstream buffers. */
  backPressuredMsPerS: number;
}

/** States in which a job holds (or is about to hold) slots: "running" for deploy's purposes. */
export const ACTIVE_STATES = new Set(['INITIALIZING', 'CREATED', 'RUNNING', 'RESTARTING', 'FAILING', 'CANCELLING', 'RECONCILING']);
export const TERMINAL_STATES = new Set(['FINISHED', 'CANCELED', 'FAILED', 'SUSPENDED']);

/** The Flink JobManager REST API (the web UI's API): jobs, metrics, checkpoints, savepoints. */
export class FlinkRestClient {
  readonly url: string;
  readonly #timeoutMs: number;

  constructor(url: string, options: { requestTimeoutMs?: number } = {}) {
    this.url = url.replace(/\/+$/, '');
    this.#timeoutMs = options.requestTimeoutMs ?? 15_000;
  }

  async overview(): Promise<{ 'flink-version': string; taskmanagers: number; 'slots-total': number; 'slots-available': number }> {
    return this.#request('GET', '/overview');
  }

  /** The JobManager's effective configuration (what its config.yaml and dynamic properties set). */
  async clusterConfig(): Promise<Record<string, string>> {
    const entries = await this.#request<Array<{ key: string; value: string }>>('GET', '/jobmanager/config');
    return Object.fromEntries(entries.map((e) => [e.key, e.value]));
  }

  async jobs(): Promise<JobOverview[]> {
    return (await this.#request<{ jobs: JobOverview[] }>('GET', '/jobs/overview')).jobs;
  }

  /** Jobs with this name that are not finished, newest first. */
  async activeJobs(name: string): Promise<JobOverview[]> {
    return (await this.jobs()).filter((j) => j.name === name && ACTIVE_STATES.has(j.state)).sort((a, b) => b['start-time'] - a['start-time']);
  }

  async job(id: string): Promise<JobDetails> {
    return this.#request('GET', `/jobs/${id}`);
  }

  async jobState(id: string): Promise<string> {
    return (await this.job(id)).state;
  }

  async status(id: string): Promise<JobStatus> {
    const job = await this.job(id);
    const cps = await this.#request<{
      counts: { completed: number; failed: number; in_progress: number };
      latest: {
        completed: {
          id: number;
          status: string;
          latest_ack_timestamp: number;
          end_to_end_duration: number;
          state_size?: number;
          checkpointed_size?: number;
          external_path?: string;
        } | null;
      };
    }>('GET', `/jobs/${id}/checkpoints`).catch(() => null);
    const last = cps?.latest?.completed ?? null;
    const sources = job.vertices.filter((v) => v.name.includes('TableSourceScan') || v.name.startsWith('Source:'));
    const sinks = job.vertices.filter((v) => /Sink|Writer/.test(v.name));
    return {
      id: job.jid,
      name: job.name,
      state: job.state,
      uptimeMs: job.state === 'RUNNING' ? job.now - job['start-time'] : job.duration,
      parallelism: Math.max(0, ...job.vertices.map((v) => v.parallelism)),
      recordsIn: sources.reduce((s, v) => s + (v.metrics['write-records'] ?? 0), 0),
      recordsOut: sinks.reduce((s, v) => s + (v.metrics['read-records'] ?? 0), 0),
      checkpoints: {
        completed: cps?.counts.completed ?? 0,
        failed: cps?.counts.failed ?? 0,
        inProgress: cps?.counts.in_progress ?? 0,
        last:
          last === null
            ? null
            : {
                id: last.id,
                status: last.status,
                latestAckTimestamp: last.latest_ack_timestamp,
                durationMs: last.end_to_end_duration,
                stateSize: last.checkpointed_size ?? last.state_size ?? 0,
                externalPath: last.external_path ?? null,
              },
      },
      lastException: await this.lastException(id),
    };
  }

  /** Busy and backpressured time of every vertex now (Flink's 1-minute-rate task metrics). */
  async vertexLoads(id: string): Promise<VertexLoad[]> {
    const job = await this.job(id);
    return Promise.all(
      job.vertices.map(async (v) => {
        const metrics = await this.#request<Array<{ id: string; sum?: number }>>(
          'GET',
          `/jobs/${id}/vertices/${v.id}/subtasks/metrics?get=busyTimeMsPerSecond,backPressuredTimeMsPerSecond&agg=sum`,
        ).catch(() => []);
        const sum = (name: string): number => Number(metrics.find((m) => m.id === name)?.sum ?? Number.NaN);
        return {
          id: v.id,
          name: v.name,
          parallelism: v.parallelism,
          busyMsPerS: sum('busyTimeMsPerSecond'),
          backPressuredMsPerS: sum('backPressuredTimeMsPerSecond'),
        };
      }),
    );
  }

  /**
   * Each vertex's input watermark now: the lowest over its subtasks (ms since the epoch; null
   * while a subtask has none yet). Where event time stops moving shows which operator holds it.
   */
  async vertexWatermarks(id: string): Promise<Array<{ name: string; watermarkMs: number | null }>> {
    const job = await this.job(id);
    return Promise.all(
      job.vertices.map(async (v) => {
        const marks = await this.#request<Array<{ id: string; value: string }>>('GET', `/jobs/${id}/vertices/${v.id}/watermarks`).catch(() => []);
        const values = marks.filter((m) => m.id.endsWith('.currentInputWatermark')).map((m) => Number(m.value));
        const lowest = values.length === 0 ? Number.NaN : Math.min(...values);
        // Flink reports Long.MIN_VALUE (as a double) until a watermark arrives.
        return { name: v.name, watermarkMs: Number.isFinite(lowest) && lowest > -8e18 ? lowest : null };
      }),
    );
  }

  /** The root cause of the job's latest failure, one line; null if it never failed. */
  async lastException(id: string): Promise<string | null> {
    const ex = await this.#request<{
      'root-exception'?: string | null;
      exceptionHistory?: { entries?: Array<{ stacktrace?: string; exceptionName?: string }> };
    }>('GET', `/jobs/${id}/exceptions?maxExceptions=1`).catch(() => null);
    const trace = ex?.exceptionHistory?.entries?.[0]?.stacktrace ?? ex?.['root-exception'] ?? null;
    if (trace === null || trace === undefined || trace === '') return null;
    return rootCause(JSON.stringify({ errors: [trace] }));
  }

  async cancel(id: string): Promise<void> {
    await this.#request('PATCH', `/jobs/${id}?mode=cancel`);
  }

  /** Stop with a savepoint (drain = false: windows stay open in the savepoint); returns its path. */
  async stopWithSavepoint(id: string, targetDirectory: string, timeoutMs = 120_000): Promise<string> {
    const { 'request-id': trigger } = await this.#request<{ 'request-id': string }>('POST', `/jobs/${id}/stop`, { targetDirectory, drain: false });
    return this.#awaitSavepoint(id, trigger, timeoutMs, 'stop with savepoint');
  }

  async triggerSavepoint(id: string, targetDirectory: string, timeoutMs = 120_000): Promise<string> {
    const { 'request-id': trigger } = await this.#request<{ 'request-id': string }>('POST', `/jobs/${id}/savepoints`, {
      'target-directory': targetDirectory,
      'cancel-job': false,
    });
    return this.#awaitSavepoint(id, trigger, timeoutMs, 'savepoint');
  }

  /** Wait until the job is in one of `states`; fail early on a terminal state not asked for. */
  async waitForState(id: string, states: string[], timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let state = '';
    while (Date.now() < deadline) {
      state = await this.jobState(id);
      if (states.includes(state)) return state;
      if (TERMINAL_STATES.has(state)) break;
      await sleep(250);
    }
    const cause = await this.lastException(id);
    throw new TickflowError(
      'flink_failed',
      `job ${id} did not reach ${states.join('/')} in ${Math.round(timeoutMs / 1000)} s (state ${state || 'unknown'})${cause ? `: ${cause}` : ''}`,
    );
  }

  /** Wait until every task of the job runs (the job state turns RUNNING before its tasks are deployed). */
  async waitForTasksRunning(id: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let job: JobDetails | null = null;
    while (Date.now() < deadline) {
      job = await this.job(id);
      if (job.state === 'RUNNING' && job.vertices.every((v) => v.status === 'RUNNING')) return;
      if (TERMINAL_STATES.has(job.state)) break;
      await sleep(300);
    }
    const cause = await this.lastException(id);
    const pending = job?.vertices.filter((v) => v.status !== 'RUNNING').map((v) => v.status) ?? [];
    throw new TickflowError(
      'flink_failed',
      `job ${id} did not reach RUNNING in ${Math.round(timeoutMs / 1000)} s (job ${job?.state ?? 'unknown'}${pending.length ? `, tasks ${[...new Set(pending)].join('/')}` : ''})${cause ? `: ${cause}` : ''}`,
    );
  }

  async #awaitSavepoint(id: string, trigger: string, timeoutMs: number, what: string): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const r = await this.#request<{
        status: { id: string };
        operation?: { location?: string; 'failure-cause'?: { 'stack-trace'?: string; class?: string } };
      }>('GET', `/jobs/${id}/savepoints/${trigger}`);
      if (r.status.id === 'COMPLETED') {
        const failure = r.operation?.['failure-cause'];
        if (failure !== undefined)
          throw new TickflowError(
            'flink_failed',
            `${what} of job ${id} failed: ${rootCause(JSON.stringify({ errors: [failure['stack-trace'] ?? failure.class ?? ''] }))}`,
          );
        return r.operation?.location ?? '';
      }
      await sleep(300);
    }
    throw new TickflowError('flink_failed', `${what} of job ${id} did not complete in ${Math.round(timeoutMs / 1000)} s`);
  }

  async #request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (e) {
      throw new TickflowError('flink_unreachable', `cannot reach the Flink REST API at ${this.url}: ${networkReason(e)}`);
    }
    const text = await response.text();
    if (!response.ok) throw new TickflowError('flink_failed', `Flink REST ${method} ${path} failed (${response.status}): ${rootCause(text)}`);
    return (text === '' ? {} : JSON.parse(text)) as T;
  }
}
