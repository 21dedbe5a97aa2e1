import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { userCacheDir } from '../config/user-cache.ts';

/**
 * How an embedded database is run: for `speed` (a run at full speed: PGlite on a thread of its
 * own, pglite-store.ts, and 16 MB of shared buffers) or for `footprint` (everything else, npm
 * start first: the caller's thread, 4 MB).
 */
export type PGliteTuning = 'speed' | 'footprint';

/** Opens (creating it from the cached template when new) the PGlite database in `dir`; null = in memory. */
export async function openPGlite(dir: string | null, tuning: PGliteTuning): Promise<PGlite> {
  const startParams = startParamsFor(tuning);
  const fresh = dir === null || !existsSync(join(dir, 'PG_VERSION'));
  return fresh ? createFromTemplate(dir, startParams) : PGlite.create({ dataDir: dir, startParams });
}

/**
 * PostgreSQL's settings inside the WASM heap, which only ever grows. One session and batches of
 * COPY need far less than a server's defaults (shared_buffers 128MB): the heap stays at its
 * initial 128 MB instead of growing to ≈ 190 MB over a 500k-row ingest. The WASM pages the
 * buffers touch stay resident: for `footprint`, 4 MB of them took npm start from 176 to 165 MB
 * of RSS (3 minutes, side by side).
 *
 * For `speed`, 4 MB of WAL buffers, and for both `wal_init_zero=off`, are about PGlite's writes,
 * each a system call from its thread, which is the bound of a run at full speed: a 500k-row
 * ingest wrote 11,619 times (213 MB, 64 of them a new WAL segment's zeroes in 1 MB pieces) with
 * 1 MB of WAL buffers, and 7,140 times (146 MB) with these. A new WAL file then gets its size
 * and no zeroes, which PostgreSQL offers for file systems that gain nothing from them; a WAL
 * record is checked by its CRC either way. 24 MB of shared buffers wrote 5,178 times and ran
 * 6 % faster, but raised the run's peak RSS by 20–50 MB, to 390–423 MB.
 */
export function startParamsFor(tuning: PGliteTuning): string[] {
  const speed = tuning === 'speed';
  return [
    ...((PGlite as unknown as { defaultStartParams?: string[] }).defaultStartParams ?? []),
    ...[
      `shared_buffers=${speed ? 16 : 4}MB`,
      `wal_buffers=${speed ? 4 : 1}MB`,
      'wal_init_zero=off',
      'work_mem=2MB',
      'maintenance_work_mem=16MB',
      'temp_buffers=2MB',
    ].flatMap((c) => ['-c', c]),
  ];
}

/**
 * A new PGlite database runs initdb inside WASM, which takes 5–15 s on our machines. The
 * first one is saved as a template (an initdb'd, empty cluster) in the user's cache, and every
 * later new database starts from a copy of it in 1–3 s.
 */
async function createFromTemplate(dir: string | null, startParams: string[]): Promise<PGlite> {
  const template = templatePath();
  if (!existsSync(template)) await makeTemplateApart(template, startParams);
  if (existsSync(template)) {
    if (dir !== null) {
      // PGlite's own loader gunzips through a stream, joins the chunks, untars into copies and
      // writes them through its WASM file system: ≈ 120 MB above a plain open at its height, the
      // highest point of a short run. Written straight to the folder, it is the 38 MB tarball.
      const written: string[] = [];
      try {
        unpackTar(gunzipSync(readFileSync(template)), dir, written);
        return await PGlite.create({ dataDir: dir, startParams });
      } catch {
        for (const name of written) rmSync(join(dir, name), { recursive: true, force: true });
      }
    }
    try {
      const loadDataDir = new Blob([readFileSync(template)]);
      return dir === null ? await PGlite.create({ loadDataDir, startParams }) : await PGlite.create({ dataDir: dir, loadDataDir, startParams });
    } catch {
      // A damaged template is not worth failing for: fall through to a plain initdb.
    }
  }
  const db = dir === null ? await PGlite.create({ startParams }) : await PGlite.create({ dataDir: dir, startParams });
  await saveTemplate(db, template);
  return db;
}

/**
 * What initdb leaves behind stays with the process, not with the database or thread that ran
 * it: npm start's first run on a machine held 230 MB of RSS after a minute instead of 160 MB,
 * and as much with initdb on a worker thread of its own (most likely the compiled code of the
 * WASM functions initdb ran, which V8 keeps per process and shares between threads). So the
 * template is made by a process of its own. If that fails, the caller makes it as before.
 */
export function makeTemplateApart(template: string, startParams: string[]): Promise<void> {
  return new Promise((resolve) => {
    const script = fileURLToPath(new URL('./make-pglite-template.ts', import.meta.url));
    const child = spawn(process.execPath, [script, template, JSON.stringify(startParams)], { stdio: 'ignore' });
    child.on('error', () => resolve());
    child.on('exit', () => resolve());
  });
}

/** Saves `db`, a new empty cluster, as the template; quietly does nothing if it cannot. */
export async function saveTemplate(db: PGlite, template: string): Promise<void> {
  try {
    const dump = await db.dumpDataDir('gzip');
    mkdirSync(dirname(template), { recursive: true });
    // Per process and thread: two of them may be making it at once.
    const tmp = `${template}.${process.pid}.${threadId}.tmp`;
    writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
    renameSync(tmp, template);
  } catch {
    // The cache is an optimisation only.
  }
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

export function templatePath(): string {
  // The template must come from the same PGlite build that reads it.
  let dir = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  return join(userCacheDir(), `pglite-${version}-template.tar.gz`);
}
