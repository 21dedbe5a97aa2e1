/**
 * An alert endpoint a test starts and steers (node:http on port 0): it answers ok, 503 (429 with
 * Retry-After first), holds requests open, or is closed; it records every request. Shared by the
 * tests of `tickflow alerts forward` and `tickflow run --forward`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Request {
  body: string;
  status: number;
}

/** An alert endpoint whose answers the test steers: ok, 503 (or 429 first), held open, or closed. */
export class Endpoint {
  readonly requests: Request[] = [];
  mode: 'ok' | 'unavailable' | 'hold' = 'ok';
  /** A slow endpoint: each answer waits this long. */
  delayMs = 0;
  /** Alert ids answered 400. */
  readonly refuse = new Set<string>();
  readonly held: ServerResponse[] = [];
  #server: Server | null = null;
  #port = 0;

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
    return this;
  }

  /** Closed: connections refused until start() listens on the same port again. */
  async stop(): Promise<void> {
    const s = this.#server;
    this.#server = null;
    if (s === null) return;
    for (const r of this.held.splice(0)) r.destroy();
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  url(path = '/hook/SECRET-TOKEN'): string {
    return `http://127.0.0.1:${this.#port}${path}`;
  }

  /** Bodies answered 2xx, parsed. */
  delivered(): Record<string, unknown>[] {
    return this.requests.filter((r) => r.status >= 200 && r.status < 300).map((r) => JSON.parse(r.body) as Record<string, unknown>);
  }

  deliveredIds(): string[] {
    return this.delivered()
      .map((b) => b.alert_id)
      .filter((id): id is string => typeof id === 'string');
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const answer = (status: number, headers: Record<string, string> = {}, text = ''): void => {
      this.requests.push({ body, status });
      res.writeHead(status, headers).end(text);
    };
    if (this.mode === 'hold') {
      // Never answered: status 0.
      this.requests.push({ body, status: 0 });
      this.held.push(res);
      return;
    }
    if (this.mode === 'unavailable') {
      // The first refusal asks for a pause the forwarder must honour; the rest are plain 503s.
      const first = !this.requests.some((r) => r.status === 429);
      answer(first ? 429 : 503, first ? { 'retry-after': '1' } : {}, 'down for maintenance');
      return;
    }
    if (this.delayMs > 0) await sleep(this.delayMs);
    const id = (JSON.parse(body) as { alert_id?: string }).alert_id;
    if (id !== undefined && this.refuse.has(id)) answer(400, {}, 'no such channel');
    else answer(200, {}, 'ok');
  }
}
