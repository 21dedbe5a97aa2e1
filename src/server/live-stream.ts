import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { LiveHub } from './live-hub.ts';

const HEARTBEAT_MS = 15_000;

/**
 * GET /api/stream: Server-Sent Events `candle`, `alert`, `stats` (and `reset` when a client
 * cannot resume). The browser's EventSource resends the last id it saw as Last-Event-ID when it
 * reconnects; `?last_event_id=` does the same for clients that cannot set headers.
 */
export function liveStream(c: Context, hub: LiveHub): Response {
  const lastEventId = c.req.header('last-event-id') ?? c.req.query('last_event_id') ?? null;
  const sub = hub.subscribe(lastEventId);
  c.header('X-Accel-Buffering', 'no');
  return streamSSE(
    c,
    async (stream) => {
      stream.onAbort(() => sub.end());
      await stream.write('retry: 2000\n\n');
      for (;;) {
        const events = await sub.next(HEARTBEAT_MS);
        if (events === null || stream.aborted) break;
        // A comment line keeps proxies from timing out an idle stream.
        if (events.length === 0) await stream.write(': keep-alive\n\n');
        // Awaiting each write is this client's backpressure; a client too slow overflows its queue and is cut off.
        for (const e of events) await stream.writeSSE({ id: e.id, event: e.type, data: e.data });
      }
      sub.end();
    },
    async () => {
      sub.end();
    },
  );
}
