import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** A port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A long-running `tickflow` child (serve, or run fed through stdin), stopped with SIGINT. */
export class TickflowProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  /** Waits for "dashboard on http://…" on stderr and returns that base URL (no trailing slash). */
  async dashboardUrl(timeoutMs = 90_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /dashboard on (http:\/\/[^\s/]+)\//.exec(this.stderr);
      if (m) return m[1]!;
      if (this.child.exitCode !== null) throw new Error(`tickflow exited ${this.child.exitCode}: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no dashboard address within ${timeoutMs} ms: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  write(lines: string[]): void {
    if (lines.length > 0) this.child.stdin.write(`${lines.join('\n')}\n`);
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) {
      this.child.stdin.end();
      this.child.kill('SIGINT');
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

export async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await probe();
      if (v !== null && v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface SseEvent {
  id: string | null;
  event: string;
  data: string;
}

/**
 * A minimal Server-Sent Events reader over fetch (Node has no EventSource): collects events
 * until `stop()` and lets a test wait for one that matches.
 */
export class SseReader {
  readonly events: SseEvent[] = [];
  readonly #abort = new AbortController();
  readonly done: Promise<void>;
  status = 0;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.done = this.#read(url, headers).catch((e: Error) => {
      if (e.name !== 'AbortError') throw e;
    });
  }

  async #read(url: string, headers: Record<string, string>): Promise<void> {
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: this.#abort.signal });
    this.status = res.status;
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let id: string | null = null;
        let event = 'message';
        const data: string[] = [];
        for (const line of frame.split('\n')) {
          if (line.startsWith('id:')) id = line.slice(3).trim();
          else if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (data.length > 0) this.events.push({ id, event, data: data.join('\n') });
      }
    }
  }

  of(event: string): unknown[] {
    return this.events.filter((e) => e.event === event).map((e) => JSON.parse(e.data));
  }

  waitFor(what: string, match: (e: SseEvent) => boolean, timeoutMs = 30_000): Promise<SseEvent> {
    return waitFor(what, async () => this.events.find(match), timeoutMs, 50);
  }

  stop(): Promise<void> {
    this.#abort.abort();
    return this.done;
  }
}

/** One trade in the contract's JSON form. */
export function tradeLine(id: string, ticker: string, price: string, volume: number, tsMs: number): string {
  return JSON.stringify({ trade_id: id, ticker, price, volume, trade_timestamp: new Date(tsMs).toISOString() });
}
