import { setTimeout as sleep } from 'node:timers/promises';
import { TickflowError } from '../tickflow-error.ts';
import { rootCause } from './flink-error.ts';

/**
 * A client for the Flink SQL Gateway REST API (v1), over fetch. One instance = one gateway;
 * sessions are explicit so a caller can SET options once and run several statements in them.
 */
export interface StatementResult {
  columns: string[];
  rows: unknown[][];
  /** Set when the statement submitted a job (INSERT, EXECUTE STATEMENT SET). */
  jobId: string | null;
}

interface ResultPage {
  resultType: 'NOT_READY' | 'PAYLOAD' | 'EOS';
  jobID?: string;
  results?: { columns?: Array<{ name: string }>; data?: Array<{ kind: string; fields: unknown[] }> };
  nextResultUri?: string | null;
}

export interface GatewayClientOptions {
  /** Per request; the gateway answers quickly, a stuck one should not hang the CLI. */
  requestTimeoutMs?: number;
}

export class GatewayClient {
  readonly url: string;
  readonly #api: string;
  readonly #requestTimeoutMs: number;

  /** `url`: http://host:port of the gateway (a trailing /v1 is accepted). */
  constructor(url: string, options: GatewayClientOptions = {}) {
    const base = url.replace(/\/+$/, '').replace(/\/v[12]$/, '');
    this.url = base;
    this.#api = `${base}/v1`;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  /** The gateway's product name and version; also the cheapest "is it there" probe. */
  async info(): Promise<{ productName: string; version: string }> {
    return this.#request('GET', '/info');
  }

  async openSession(name: string, properties: Record<string, string> = {}): Promise<GatewaySession> {
    const { sessionHandle } = await this.#request<{ sessionHandle: string }>('POST', '/sessions', { sessionName: name, properties });
    return new GatewaySession(this, sessionHandle);
  }

  /** @internal used by GatewaySession */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.#request<T>(method, path, body);
  }

  async #request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = path.startsWith('http') ? path : `${this.#api}${path.startsWith('/v1/') ? path.slice(3) : path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#requestTimeoutMs),
      });
    } catch (e) {
      throw new TickflowError('flink_unreachable', `cannot reach the Flink SQL Gateway at ${this.url}: ${networkReason(e)}`);
    }
    const text = await response.text();
    if (!response.ok) {
      throw new TickflowError('flink_failed', `SQL Gateway ${method} ${path.replace(/[0-9a-f-]{36}/g, '…')} failed (${response.status}): ${rootCause(text)}`);
    }
    if (text === '') return {} as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new TickflowError('flink_failed', `SQL Gateway at ${this.url} answered ${method} ${path} with something that is not JSON: ${text.slice(0, 120)}`);
    }
  }
}

export class GatewaySession {
  readonly client: GatewayClient;
  readonly handle: string;

  constructor(client: GatewayClient, handle: string) {
    this.client = client;
    this.handle = handle;
  }

  /** Submit a statement; returns its operation handle without waiting. */
  async submit(statement: string, executionConfig: Record<string, string> = {}): Promise<string> {
    const body: Record<string, unknown> = { statement };
    if (Object.keys(executionConfig).length > 0) body.executionConfig = executionConfig;
    const { operationHandle } = await this.client.request<{ operationHandle: string }>('POST', `/sessions/${this.handle}/statements`, body);
    return operationHandle;
  }

  async status(operation: string): Promise<string> {
    const r = await this.client.request<{ status: string }>('GET', `/sessions/${this.handle}/operations/${operation}/status`);
    return r.status;
  }

  /**
   * Run one statement to completion and collect its rows, following `nextResultUri` until EOS
   * (a page can be PAYLOAD with no rows). For INSERT / STATEMENT SET that is one row: the job id.
   * `maxRows` stops early (an unbounded SELECT) and closes the operation.
   */
  async execute(statement: string, options: { timeoutMs?: number; maxRows?: number; executionConfig?: Record<string, string> } = {}): Promise<StatementResult> {
    const timeoutMs = options.timeoutMs ?? 120_000;
    const operation = await this.submit(statement, options.executionConfig);
    const deadline = Date.now() + timeoutMs;
    let next: string | null = `/sessions/${this.handle}/operations/${operation}/result/0`;
    const rows: unknown[][] = [];
    let columns: string[] = [];
    let jobId: string | null = null;
    let stoppedEarly = false;
    try {
      while (next !== null) {
        if (Date.now() > deadline) {
          stoppedEarly = true;
          throw new TickflowError('flink_failed', `statement did not finish within ${Math.round(timeoutMs / 1000)} s: ${oneLine(statement)}`);
        }
        const page: ResultPage = await this.client.request<ResultPage>('GET', next);
        jobId = page.jobID ?? jobId;
        const cols = page.results?.columns;
        if (cols !== undefined && cols.length > 0) columns = cols.map((c) => c.name);
        const data = page.results?.data ?? [];
        for (const d of data) rows.push(d.fields);
        if (page.resultType === 'EOS') break;
        if (options.maxRows !== undefined && rows.length >= options.maxRows) {
          stoppedEarly = true;
          break;
        }
        next = page.nextResultUri ?? null;
        if (page.resultType === 'NOT_READY' || data.length === 0) await sleep(150);
      }
    } finally {
      if (stoppedEarly || options.maxRows !== undefined) await this.close(operation).catch(() => {});
    }
    if (jobId === null && columns.length === 1 && columns[0] === 'job id' && typeof rows[0]?.[0] === 'string') jobId = rows[0][0];
    return { columns, rows, jobId };
  }

  async cancel(operation: string): Promise<void> {
    await this.client.request('POST', `/sessions/${this.handle}/operations/${operation}/cancel`);
  }

  async close(operation: string): Promise<void> {
    await this.client.request('DELETE', `/sessions/${this.handle}/operations/${operation}/close`);
  }

  async heartbeat(): Promise<void> {
    await this.client.request('POST', `/sessions/${this.handle}/heartbeat`);
  }

  /** Close the session; errors are ignored (the gateway expires idle sessions anyway). */
  async closeSession(): Promise<void> {
    await this.client.request('DELETE', `/sessions/${this.handle}`).catch(() => {});
  }
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 100 ? `${t.slice(0, 100)}…` : t;
}

export function networkReason(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError') return 'no answer (timed out)';
  const code = err.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused (is `tickflow stack up` running?)';
  if (code === 'ENOTFOUND') return 'host not found';
  if (code === 'ECONNRESET') return 'connection reset';
  return err.cause?.message ?? err.message ?? String(e);
}
