/**
 * Helpers for tests that need the local Kafka + Flink stack (started once per run by
 * test/setup/stack.global.ts). Settings come from the same env vars as `tickflow stack`
 * (TICKFLOW_STACK_DIR, TICKFLOW_*_PORT, DATABASE_URL), so tests reach the stack CI started.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { runKafkaTool, type ToolResult } from '../../src/stack/kafka-tools.ts';
import { type StackFlags, type StackSettings, stackSettings } from '../../src/stack/settings.ts';
import { currentStackInfo, type StackInfo } from '../../src/stack/stack.ts';
import { waitFor } from './wait.ts';

/** The settings of the shared test stack (env-driven; see the module comment). */
export function testStackSettings(flags: StackFlags = {}): StackSettings {
  return stackSettings(flags, process.env);
}

/** Paths (lib/conf/data/logs/run), ports, URLs, classpaths and pids of the shared stack. */
export function testStackInfo(settings: StackSettings = testStackSettings()): Promise<StackInfo> {
  return currentStackInfo(settings);
}

/** A name no other test (or earlier run) uses: topics, tables, consumer groups. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** The tickflow database on the configured PostgreSQL server (DATABASE_URL's server). */
export function tickflowDatabaseUrl(): string {
  const url = new URL(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres');
  url.pathname = '/tickflow';
  return url.toString();
}

/**
 * The tickflow database as Flink's JDBC connector options. The connector wants username and
 * password together or not at all; with trust auth any password does.
 */
export function jdbcConnectorOptions(): { url: string; username: string; password: string } {
  const url = new URL(tickflowDatabaseUrl());
  return {
    url: `jdbc:postgresql://${url.host}${url.pathname}`,
    username: decodeURIComponent(url.username) || 'postgres',
    password: decodeURIComponent(url.password) || 'unused-with-trust-auth',
  };
}

/**
 * Runs a Kafka command-line class (short names resolve under org.apache.kafka.tools) with the
 * stack's Kafka classpath; `--bootstrap-server` is NOT added for you.
 */
export function kafkaTool(
  mainClass: string,
  args: string[],
  options: { input?: string; timeoutMs?: number } = {},
  settings = testStackSettings(),
): Promise<ToolResult> {
  return runKafkaTool(settings, mainClass, args, options);
}

function bootstrap(settings: StackSettings): string {
  return `${settings.host}:${settings.ports.kafka}`;
}

function check(result: ToolResult, what: string): ToolResult {
  if (result.code !== 0 || result.timedOut) {
    throw new Error(`${what} failed (exit ${result.code}${result.timedOut ? ', timed out' : ''}): ${result.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  }
  return result;
}

export async function createTopic(topic: string, partitions = 1, settings = testStackSettings()): Promise<void> {
  check(
    await kafkaTool(
      'TopicCommand',
      ['--bootstrap-server', bootstrap(settings), '--create', '--if-not-exists', '--topic', topic, '--partitions', String(partitions)],
      {},
      settings,
    ),
    `create topic ${topic}`,
  );
}

export async function deleteTopic(topic: string, settings = testStackSettings()): Promise<void> {
  await kafkaTool('TopicCommand', ['--bootstrap-server', bootstrap(settings), '--delete', '--if-exists', '--topic', topic], {}, settings);
}

/** Sends lines with Kafka's console producer; "key<TAB>value" lines when `keyed`. */
export async function produceLines(topic: string, lines: string[], options: { keyed?: boolean } = {}, settings = testStackSettings()): Promise<void> {
  const keyArgs = options.keyed ? ['--property', 'parse.key=true', '--property', 'key.separator=\t'] : [];
  check(
    await kafkaTool('ConsoleProducer', ['--bootstrap-server', bootstrap(settings), '--topic', topic, ...keyArgs], { input: `${lines.join('\n')}\n` }, settings),
    `produce to ${topic}`,
  );
}

/** Reads `count` records from the beginning with Kafka's console consumer ("key<TAB>value" when `withKeys`). */
export async function consumeLines(
  topic: string,
  count: number,
  options: { withKeys?: boolean; timeoutMs?: number } = {},
  settings = testStackSettings(),
): Promise<string[]> {
  const keyArgs = options.withKeys ? ['--property', 'print.key=true', '--property', 'key.separator=\t'] : [];
  const timeoutMs = options.timeoutMs ?? 30_000;
  const result = check(
    await kafkaTool(
      'org.apache.kafka.tools.consumer.ConsoleConsumer',
      [
        '--bootstrap-server',
        bootstrap(settings),
        '--topic',
        topic,
        '--from-beginning',
        '--max-messages',
        String(count),
        '--timeout-ms',
        String(timeoutMs),
        ...keyArgs,
      ],
      { timeoutMs: timeoutMs + 30_000 },
      settings,
    ),
    `consume from ${topic}`,
  );
  return result.stdout.split('\n').filter((l) => l !== '');
}

// ---------------------------------------------------------------------------------------------
// A minimal SQL Gateway REST client for tests (the product's own client lives in src/flink/).

type FetchResult = {
  resultType: 'NOT_READY' | 'PAYLOAD' | 'EOS';
  jobID?: string;
  results?: { columns: Array<{ name: string }>; data: Array<{ kind: string; fields: unknown[] }> };
  nextResultUri?: string | null;
};

async function gatewayRequest<T>(url: string, method: string, body?: unknown): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) {
    // The gateway wraps the root cause deep in a Java stack trace; its first "Caused by" lines say what went wrong.
    const causes = [...text.matchAll(/Caused by: ([^\\\n]+)/g)]
      .map((m) => m[1])
      .slice(-2)
      .join(' / ');
    throw new Error(`${method} ${url} → ${response.status}: ${causes || text.slice(0, 300)}`);
  }
  return (text === '' ? {} : JSON.parse(text)) as T;
}

export class GatewaySession {
  readonly baseUrl: string;
  readonly handle: string;

  private constructor(baseUrl: string, handle: string) {
    this.baseUrl = baseUrl;
    this.handle = handle;
  }

  static async open(settings = testStackSettings(), properties: Record<string, string> = {}): Promise<GatewaySession> {
    const baseUrl = `http://${settings.host}:${settings.ports.gateway}/v1`;
    const { sessionHandle } = await gatewayRequest<{ sessionHandle: string }>(`${baseUrl}/sessions`, 'POST', { sessionName: uniqueName('test'), properties });
    return new GatewaySession(baseUrl, sessionHandle);
  }

  /**
   * Runs one statement and collects its rows, following nextResultUri until EOS (bounded
   * queries, DDL, INSERT → one row with the job id) or until `maxRows` arrived.
   */
  async execute(
    statement: string,
    options: { timeoutMs?: number; maxRows?: number } = {},
  ): Promise<{ columns: string[]; rows: unknown[][]; jobId: string | null }> {
    const { operationHandle } = await gatewayRequest<{ operationHandle: string }>(`${this.baseUrl}/sessions/${this.handle}/statements`, 'POST', { statement });
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    let next: string | null = `${this.baseUrl}/sessions/${this.handle}/operations/${operationHandle}/result/0`;
    const rows: unknown[][] = [];
    let columns: string[] = [];
    let jobId: string | null = null;
    while (next !== null) {
      if (Date.now() > deadline) throw new Error(`statement did not finish within ${options.timeoutMs ?? 60_000} ms: ${statement.slice(0, 80)}`);
      const page: FetchResult = await gatewayRequest<FetchResult>(next, 'GET');
      jobId = page.jobID ?? jobId;
      if (page.results !== undefined) {
        if (page.results.columns.length > 0) columns = page.results.columns.map((c) => c.name);
        rows.push(...page.results.data.map((d) => d.fields));
      }
      if (page.resultType === 'EOS' || (options.maxRows !== undefined && rows.length >= options.maxRows)) break;
      next = page.nextResultUri ? new URL(page.nextResultUri, this.baseUrl).toString() : null;
      if (page.resultType === 'NOT_READY' || page.results?.data.length === 0) await sleep(200);
    }
    if (options.maxRows !== undefined) {
      await gatewayRequest(`${this.baseUrl}/sessions/${this.handle}/operations/${operationHandle}/close`, 'DELETE').catch(() => {});
    }
    return { columns, rows, jobId };
  }

  async close(): Promise<void> {
    await gatewayRequest(`${this.baseUrl}/sessions/${this.handle}`, 'DELETE').catch(() => {});
  }
}

/** Cancels a Flink job through the REST API and waits until it is no longer running. */
export async function cancelFlinkJob(jobId: string, settings = testStackSettings(), timeoutMs = 60_000): Promise<void> {
  const base = `http://${settings.host}:${settings.ports.flink}`;
  await fetch(`${base}/jobs/${jobId}?mode=cancel`, { method: 'PATCH', signal: AbortSignal.timeout(10_000) });
  await waitFor(async () => ['CANCELED', 'FAILED', 'FINISHED'].includes(await flinkJobState(jobId, settings)), {
    what: `job ${jobId} to end after cancel`,
    timeoutMs,
    everyMs: 250,
  });
}

export async function flinkJobState(jobId: string, settings = testStackSettings()): Promise<string> {
  const response = await fetch(`http://${settings.host}:${settings.ports.flink}/jobs/${jobId}`, { signal: AbortSignal.timeout(10_000) });
  return ((await response.json()) as { state: string }).state;
}
