import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EngineOutput } from '../engine/records.ts';
import { PGliteHandler, type PGliteMessage, type PGliteRequest, type PGliteResponse } from './pglite-requests.ts';
import type { PGliteTuning } from './pglite-open.ts';
import { encodeOutput } from './rows.ts';
import { predecessorCommitted, type CommitStep, type Store, type WriteResult } from './store.ts';
import { TickflowError } from '../tickflow-error.ts';

/**
 * Embedded PostgreSQL (PGlite, WASM) in a local directory, or in memory. PGlite runs
 * synchronously on the thread that calls it, so a run that goes as fast as it can gives it a
 * thread of its own (`thread: true`, pglite-worker.ts): the engine then works on the next batch
 * while this one is stored (500k trades: 108k → 240k trades/s). The thread is an isolate of its
 * own (≈ 20–30 MB), which a paced run (npm start) does without. Either way a batch goes as its
 * encoded rows (rows.ts) through the same requests (pglite-requests.ts); PGlite has one
 * connection and serialises the transactions itself.
 */
export class PGliteStore implements Store {
  readonly kind = 'pglite' as const;
  readonly location: string;
  readonly claims = null;
  readonly #send: (r: PGliteRequest) => Promise<unknown>;
  readonly #worker: Worker | null;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextId = 0;
  #closed = false;
  #failure: Error | null = null;
  readonly #lock: string | null;

  private constructor(location: string, lock: string | null, thread: boolean) {
    this.location = location;
    this.#lock = lock;
    if (!thread) {
      const handler = new PGliteHandler();
      this.#worker = null;
      this.#send = (r) => handler.handle(r);
      return;
    }
    const worker = new Worker(new URL('./pglite-worker.ts', import.meta.url));
    this.#worker = worker;
    this.#send = (r) => this.#post(worker, r);
    // The thread keeps the process alive only while a request waits on it.
    worker.unref();
    worker.on('message', (m: PGliteResponse) => {
      const p = this.#pending.get(m.id);
      if (p === undefined) return;
      this.#settled(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(Object.assign(new Error(m.error.message), m.error.code === undefined ? {} : { code: m.error.code }));
    });
    const stop = (e: Error): void => {
      this.#failure ??= e;
      for (const [id, p] of this.#pending) {
        this.#settled(id);
        p.reject(e);
      }
    };
    worker.on('error', (e) => stop(new Error(`the embedded database stopped: ${e.message}`)));
    worker.on('exit', (code) => stop(new Error(`the embedded database stopped (its thread exited with ${code})`)));
  }

  /** `dir` null = in memory; `tuning` (pglite-open.ts) `speed` runs PGlite on a thread of its own. */
  static async open(dir: string | null, tuning: PGliteTuning = 'footprint'): Promise<PGliteStore> {
    if (dir !== null) mkdirSync(dir, { recursive: true });
    const lock = dir === null ? null : takeLock(dir);
    const store = new PGliteStore(dir === null ? 'pglite (in memory)' : `pglite:${dir}`, lock, tuning === 'speed');
    try {
      await store.#send({ op: 'open', dir, tuning });
      // A template is a dump of a locked data folder: unpacking it wrote its creator's pid
      // over ours, which let the next process take the database while we held it.
      if (lock !== null) writeFileSync(lock, String(process.pid));
      return store;
    } catch (e) {
      store.#closed = true;
      await store.#worker?.terminate();
      if (lock !== null) rmSync(lock, { force: true });
      throw e;
    }
  }

  async query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.#request({ op: 'query', sql, params })) as T[];
  }

  async migrate(): Promise<void> {
    await this.#request({ op: 'migrate' });
  }

  async write(out: EngineOutput, step?: CommitStep): Promise<WriteResult> {
    // One connection runs one transaction at a time: wait for the previous batch outside ours,
    // or a retry of it would queue behind us for ever. The checkpoint's statements are known
    // once it has committed; they run last in this batch's transaction.
    if (step !== undefined) await predecessorCommitted(step.after);
    const last = step === undefined ? [] : await step.epilogue();
    return (await this.#request({ op: 'write', out: encodeOutput(out), last })) as WriteResult;
  }

  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      // terminate() settles when the thread has exited: until then the thread must keep the
      // process alive, or a run ends with its last await unsettled (exit 13).
      this.#worker?.ref();
      if (this.#failure === null) await this.#send({ op: 'close' }).catch(() => {});
      await this.#worker?.terminate();
    }
    if (this.#lock !== null) rmSync(this.#lock, { force: true });
  }

  /** A request of a caller: refused once the store is closing (the dashboard may still ask). */
  #request(r: PGliteRequest): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error('the embedded database is closed'));
    return this.#send(r);
  }

  #post(worker: Worker, request: PGliteRequest): Promise<unknown> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    const id = ++this.#nextId;
    if (this.#pending.size === 0) worker.ref();
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // A write's COPY rows go in a buffer of their own, exactly their size, which moves to
      // PGlite's thread instead of being cloned there, and which PGlite reads in place; the
      // output keeps its stream for a retry (one taken early is its only copy).
      if (request.op === 'write' && request.out.trades !== null) {
        const trades = request.out.trades.slice();
        worker.postMessage({ id, request: { ...request, out: { ...request.out, trades } } } satisfies PGliteMessage, [trades.buffer]);
      } else worker.postMessage({ id, request } satisfies PGliteMessage);
    });
  }

  #settled(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size === 0 && !this.#closed) this.#worker?.unref();
  }
}

/**
 * PGlite is one process's database: two processes writing the same directory would corrupt
 * it. A lock file with our pid keeps a second one out; a lock left by a killed process (its
 * pid is gone) is taken over.
 */
function takeLock(dir: string): string {
  const lock = join(dir, 'tickflow.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return lock;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(lock, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new TickflowError('db_in_use', `the embedded database ${dir} is in use by process ${pid}; stop it first, or read through its dashboard (/api/*)`);
      }
      rmSync(lock, { force: true });
    }
  }
  throw new TickflowError('db_in_use', `cannot lock the embedded database ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
