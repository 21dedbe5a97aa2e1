/**
 * PGlite's own thread. PGlite (PostgreSQL compiled to WASM) runs synchronously on the thread
 * that calls it; here it stores one batch while the engine's thread works on the next.
 */
import { parentPort } from 'node:worker_threads';
import { type PGliteMessage, PGliteHandler, type PGliteResponse, toWorkerError } from './pglite-requests.ts';

const port = parentPort;
if (port === null) throw new Error('pglite-worker.ts runs as a worker thread');
const handler = new PGliteHandler();
port.on('message', ({ id, request }: PGliteMessage) => {
  handler.handle(request).then(
    (value) => port.postMessage({ id, ok: true, value } satisfies PGliteResponse),
    (e: unknown) => port.postMessage({ id, ok: false, error: toWorkerError(e) } satisfies PGliteResponse),
  );
});
