/**
 * A PostgreSQL server of the test's own (initdb in a temp folder, its own port), so a fault
 * test can stop and restart a real server without pulling the machine's shared one from under
 * every other process using it. Same binaries as the machine's cluster.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';

const run = promisify(execFile);

function binDir(): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error('no PostgreSQL under /usr/lib/postgresql');
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

/** initdb and the server refuse to run as root: run them as the postgres user then. */
function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

export class PrivatePostgres {
  readonly dir: string;
  readonly port: number;
  readonly #bin = binDir();

  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
  }

  /** A started server with trust auth on 127.0.0.1 (fsync off: the tests kill processes, not machines). */
  static async start(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'tickflow-pg-'));
    if (process.getuid?.() === 0) chownSync(dir, uidOf('postgres'), gidOf('postgres'));
    const pg = new PrivatePostgres(dir, await freePort());
    await pg.#exec('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
    await pg.startServer();
    return pg;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async startServer(): Promise<void> {
    const opts = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
    await this.#exec('pg_ctl', ['-D', join(this.dir, 'data'), '-o', opts, '-l', join(this.dir, 'server.log'), '-w', '-t', '60', 'start']);
  }

  /** fast: clients are disconnected, like `pg_ctlcluster … stop`; immediate: like a crash. */
  async stopServer(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.#exec('pg_ctl', ['-D', join(this.dir, 'data'), '-m', mode, '-w', '-t', '60', 'stop']);
  }

  async destroy(): Promise<void> {
    await this.stopServer('immediate').catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }

  async #exec(tool: string, args: string[]): Promise<void> {
    const [cmd, argv] = asPostgres(join(this.#bin, tool), args);
    await run(cmd, argv, { timeout: 120_000 });
  }
}

function idOf(flag: '-u' | '-g', user: string): number {
  // node has no getpwnam; `id` is on every machine that has PostgreSQL's server.
  return Number(execFileSync('id', [flag, user]).toString().trim());
}
const uidOf = (u: string) => idOf('-u', u);
const gidOf = (u: string) => idOf('-g', u);
