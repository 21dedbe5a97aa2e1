import { waitFor } from '../support/wait.ts';

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
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
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
    return waitFor(() => this.events.find(match), { what, timeoutMs, everyMs: 50 });
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
