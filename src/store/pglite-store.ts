import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, normalize, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { EngineOutput } from '../engine/records.ts';
import { applyMigrations } from './migrate.ts';
import { predecessorCommitted, type CommitStep, type Store, type WriteResult } from './store.ts';
import { OutputWriter, isUniqueViolation, type WriteTx } from './write-output.ts';
import { TickflowError } from '../tickflow-error.ts';

/**
 * Embedded PostgreSQL (PGlite, WASM) in a local directory, or in memory. It has one
 * connection, so writes are serialised by PGlite itself; COPY reads from a Blob.
 */
export class PGliteStore implements Store {
  readonly kind = 'pglite' as const;
  readonly location: string;
  readonly claims = null;
  readonly #db: PGlite;
  readonly #writer = new OutputWriter();
  readonly #lock: string | null;

  private constructor(db: PGlite, location: string, lock: string | null) {
    this.#db = db;
    this.location = location;
    this.#lock = lock;
  }

  /** `dir` null = in memory. */
  static async open(dir: string | null): Promise<PGliteStore> {
    if (dir !== null) mkdirSync(dir, { recursive: true });
    const lock = dir === null ? null : takeLock(dir);
    try {
      const fresh = dir === null || !existsSync(join(dir, 'PG_VERSION'));
      const db = fresh ? await createFromTemplate(dir) : await PGlite.create({ dataDir: dir, startParams: START_PARAMS });
      // A template is a dump of a locked data folder: unpacking it wrote its creator's pid
      // over ours, which let the next process take the database while we held it.
      if (lock !== null) writeFileSync(lock, String(process.pid));
      return new PGliteStore(db, dir === null ? 'pglite (in memory)' : `pglite:${dir}`, lock);
    } catch (e) {
      if (lock !== null) rmSync(lock, { force: true });
      throw e;
    }
  }

  async query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    if (params.length === 0 && sql.includes(';')) {
      const results = await this.#db.exec(sql);
      return (results.at(-1)?.rows ?? []) as T[];
    }
    return (await this.#db.query<T>(sql, params)).rows;
  }

  async migrate(): Promise<void> {
    await applyMigrations(async (fn) => {
      await this.#db.transaction(async (tx) => {
        await fn(async (q, params) => {
          if (params === undefined || params.length === 0) {
            const r = await tx.exec(q);
            return (r.at(-1)?.rows ?? []) as Record<string, unknown>[];
          }
          return (await tx.query<Record<string, unknown>>(q, params)).rows;
        });
      });
    });
  }

  async write(out: EngineOutput, step?: CommitStep): Promise<WriteResult> {
    // One connection runs one transaction at a time: wait for the previous batch outside ours,
    // or a retry of it would queue behind us for ever.
    if (step !== undefined) await predecessorCommitted(step.after);
    return this.#db.transaction(async (tx) => {
      const result = await this.#writer.write(txOps(tx), out);
      if (step !== undefined) for (const s of await step.epilogue()) await tx.query(s.sql, [...s.params]);
      return result;
    });
  }

  async close(): Promise<void> {
    if (!this.#db.closed) await this.#db.close();
    if (this.#lock !== null) rmSync(this.#lock, { force: true });
  }
}

/**
 * PostgreSQL's memory settings inside the WASM heap, which only ever grows. One session and
 * batches of COPY need far less than a server's defaults (shared_buffers 128MB): the heap stays
 * at its initial 128 MB instead of growing to ≈ 190 MB over a 500k-row ingest, and COPY was no
 * slower in the same measurement.
 */
const START_PARAMS = [
  ...((PGlite as unknown as { defaultStartParams?: string[] }).defaultStartParams ?? []),
  ...['shared_buffers=16MB', 'wal_buffers=1MB', 'work_mem=2MB', 'maintenance_work_mem=16MB', 'temp_buffers=2MB'].flatMap((c) => ['-c', c]),
];

function txOps(tx: Transaction): WriteTx {
  const ops: WriteTx = {
    async run(q, params = []) {
      const r = params.length === 0 ? (await tx.exec(q)).at(-1) : await tx.query(q, params);
      return r?.affectedRows ?? 0;
    },
    async copyIn(target, rows) {
      await tx.query(`COPY ${target} FROM '/dev/blob' WITH (FORMAT binary)`, [], { blob: new Blob([rows]) });
    },
    async tryUnique(fn) {
      await tx.exec('SAVEPOINT tickflow_copy');
      try {
        await fn(ops);
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        await tx.exec('ROLLBACK TO SAVEPOINT tickflow_copy');
        return false;
      }
      await tx.exec('RELEASE SAVEPOINT tickflow_copy');
      return true;
    },
  };
  return ops;
}

/**
 * A new PGlite database runs initdb inside WASM, which takes 5–15 s on our machines. The
 * first one is saved as a template (an initdb'd, empty cluster) in the user's cache, and every
 * later new database starts from a copy of it in 1–3 s.
 */
async function createFromTemplate(dir: string | null): Promise<PGlite> {
  const template = templatePath();
  if (existsSync(template)) {
    if (dir !== null) {
      // PGlite's own loader gunzips through a stream, joins the chunks, untars into copies and
      // writes them through its WASM file system: ≈ 120 MB above a plain open at its height, the
      // highest point of a short run. Written straight to the folder, it is the 38 MB tarball.
      const written: string[] = [];
      try {
        unpackTar(gunzipSync(readFileSync(template)), dir, written);
        return await PGlite.create({ dataDir: dir, startParams: START_PARAMS });
      } catch {
        for (const name of written) rmSync(join(dir, name), { recursive: true, force: true });
      }
    }
    try {
      const loadDataDir = new Blob([readFileSync(template)]);
      return dir === null
        ? await PGlite.create({ loadDataDir, startParams: START_PARAMS })
        : await PGlite.create({ dataDir: dir, loadDataDir, startParams: START_PARAMS });
    } catch {
      // A damaged template is not worth failing for: fall through to a plain initdb.
    }
  }
  const db = dir === null ? await PGlite.create({ startParams: START_PARAMS }) : await PGlite.create({ dataDir: dir, startParams: START_PARAMS });
  try {
    const dump = await db.dumpDataDir('gzip');
    mkdirSync(dirname(template), { recursive: true });
    const tmp = `${template}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
    renameSync(tmp, template);
  } catch {
    // The cache is an optimisation only.
  }
  return db;
}

/**
 * Writes the files and folders of a (ustar) tarball made by PGlite's dumpDataDir under `dir`,
 * with their modification times, as PGlite's loader does; `written` collects the top-level
 * names, so that a failure can be undone. Anything else in it (links, long names) is an error:
 * the caller then lets PGlite load it.
 */
function unpackTar(tar: Buffer, dir: string, written: string[]): void {
  const top = new Set<string>();
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (from: number, len: number): string => header.toString('latin1', from, from + len).replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const name = normalize((prefix ? `${prefix}/` : '') + field(0, 100)).replace(/^[/\\]+/, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const mtime = parseInt(field(136, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    if (!Number.isFinite(size) || name === '' || name === '.' || name.split(/[/\\]/).includes('..')) throw new Error(`bad tar entry "${name}"`);
    const path = join(dir, name);
    const first = name.split(sep)[0]!;
    if (!top.has(first) && first !== 'tickflow.lock') {
      top.add(first);
      written.push(first);
    }
    if (type === '5') {
      mkdirSync(path, { recursive: true });
    } else if (type === '0') {
      // Our lock is already in place; the template's carries its creator's pid.
      if (name !== 'tickflow.lock') {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, tar.subarray(at + 512, at + 512 + size));
        if (mtime > 0) utimesSync(path, mtime, mtime);
      }
    } else {
      throw new Error(`tar entry type ${type} not supported`);
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
}

function templatePath(): string {
  // The template must come from the same PGlite build that reads it.
  let dir = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'tickflow', `pglite-${version}-template.tar.gz`);
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
