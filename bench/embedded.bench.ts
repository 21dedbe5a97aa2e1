import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshDatabase } from '../test/support/postgres.ts';
import type { Bench, BenchRow } from './bench.ts';

const MAIN = fileURLToPath(new URL('../bin/tickflow.js', import.meta.url));

/** Trades of the `--rate max` rows. */
const COUNT = Number(process.env.TICKFLOW_BENCH_EMBEDDED_TRADES ?? 500_000);
/** Length of the npm-start-like run: 600 (10 minutes) for the record, shorter while developing. */
const START_SECONDS = Number(process.env.TICKFLOW_BENCH_START_SECONDS ?? 60);
/** Free port for its dashboard. */
const PORT = Number(process.env.TICKFLOW_BENCH_PORT ?? 3917);

/** Resident memory of a process from /proc, in MB (Linux). */
function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? null : Number(m[1]) / 1024;
  } catch {
    return null;
  }
}

interface Sampled {
  out: string;
  /** [seconds since start, RSS MB] */
  samples: [number, number][];
}

function runCli(args: string[], o: { stopAfterMs?: number; sampleMs?: number; nodeFlags?: string[] } = {}): Promise<Sampled> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(o.nodeFlags ?? []), MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const samples: [number, number][] = [];
    const t0 = performance.now();
    const sampler = setInterval(() => {
      const r = child.pid === undefined ? null : rssMb(child.pid);
      if (r !== null) samples.push([(performance.now() - t0) / 1000, r]);
    }, o.sampleMs ?? 1000);
    const stop = o.stopAfterMs === undefined ? null : setTimeout(() => child.kill('SIGINT'), o.stopAfterMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      clearInterval(sampler);
      if (stop !== null) clearTimeout(stop);
      if (code === 0) resolve({ out, samples });
      else reject(new Error(`tickflow exited ${code}: ${err.trim().slice(-500)}`));
    });
  });
}

function mean(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
}

/** `tickflow run` end to end as a user runs it: simulator → engine → database, one process. */
export const bench: Bench = {
  name: 'embedded',
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    const tmp = mkdtempSync(join(tmpdir(), 'tickflow-bench-'));
    let scratch: { url: string; drop: () => Promise<void> } | null = null;
    try {
      // The PGlite run twice: as the CLI runs it (it restarts itself with --liftoff-only), and
      // with that flag refused on Node's command line (which the CLI respects), to show what it is
      // worth in the same bench run. NODE_OPTIONS does not take V8's wasm flags.
      const targets: [string, string, number, string[]?][] = [
        ['PGlite', `pglite:${join(tmp, 'pgdata')}`, 200_000],
        ["PGlite without the CLI's --liftoff-only", `pglite:${join(tmp, 'pgdata-tiered')}`, 200_000, ['--no-liftoff-only']],
      ];
      // An empty database of its own unless DATABASE_URL names one, so that runs compare: a
      // shared one keeps every earlier run's rows (26.5M after an afternoon of runs), and a
      // larger primary-key index makes every COPY slower.
      scratch = process.env.DATABASE_URL === undefined ? await freshDatabase('tickflow_bench_e2e') : null;
      if (process.env.DATABASE_URL !== '') targets.push(['PostgreSQL', scratch?.url ?? (process.env.DATABASE_URL as string), 300_000]);
      for (const [label, db, target, nodeFlags] of targets) {
        const { out } = await runCli(
          ['run', '--rate', 'max', '--count', String(COUNT), '--seed', String(Date.now() % 1e9), '--db', db, '--json', '--no-dashboard'],
          { nodeFlags },
        );
        const s = JSON.parse(out) as { trades_per_s: number; peak_rss_mb: number; alerts: number; candles: number };
        rows.push({
          name: `tickflow run --rate max, simulator → ${label}`,
          value: s.trades_per_s,
          unit: 'trades/s',
          target: `≥ ${target.toLocaleString('en-US')}/s`,
          met: s.trades_per_s >= target,
          notes: `${COUNT.toLocaleString('en-US')} trades, ${s.alerts} alerts, ${s.candles} candles (run --json)`,
        });
        rows.push({
          name: `peak RSS, run --rate max → ${label}`,
          value: s.peak_rss_mb,
          unit: 'MB',
          target: label.startsWith('PGlite') ? '≤ 400 MB' : undefined,
          met: label.startsWith('PGlite') ? s.peak_rss_mb <= 400 : undefined,
          notes: 'getrusage maxRSS of the run (run --json peak_rss_mb)',
        });
      }

      // What `npm start` does: simulator at 1,000 trades/s, dashboard on, PGlite; RSS sampled.
      const { samples } = await runCli(['run', '--db', `pglite:${join(tmp, 'start')}`, '--port', String(PORT), '--json'], {
        stopAfterMs: START_SECONDS * 1000,
        sampleMs: Math.max(1000, START_SECONDS * 10),
      });
      const after = (sec: number): number => samples.find(([t]) => t >= sec)?.[1] ?? Number.NaN;
      const max = Math.max(...samples.map(([, r]) => r));
      const half = samples.filter(([t]) => t >= START_SECONDS / 2).map(([, r]) => r);
      const firstHalf = samples.filter(([t]) => t >= Math.min(60, START_SECONDS / 4) && t < START_SECONDS / 2).map(([, r]) => r);
      const drift = mean(half) - mean(firstHalf);
      const last = samples.at(-1)?.[1] ?? Number.NaN;
      const span = `${START_SECONDS} s of npm-start-like run (1,000 trades/s, dashboard, PGlite), sampled every ${Math.max(1, START_SECONDS / 100)} s`;
      rows.push(
        {
          name: 'npm start: RSS after 1 min',
          value: after(Math.min(60, START_SECONDS - 1)),
          unit: 'MB',
          target: '≤ 200 MB',
          met: after(Math.min(60, START_SECONDS - 1)) <= 200,
          notes: span,
        },
        { name: 'npm start: highest RSS sampled', value: max, unit: 'MB', target: '≤ 200 MB', met: max <= 200, notes: span },
        {
          name: 'npm start: RSS at the end',
          value: last,
          unit: 'MB',
          notes: `samples: ${samples
            .filter((_, i) => i % Math.ceil(samples.length / 8) === 0)
            .map(([t, r]) => `${Math.round(t)}s ${Math.round(r)}`)
            .join(', ')}`,
        },
        {
          name: 'npm start: RSS drift, 2nd half − 1st half',
          value: drift,
          unit: 'MB',
          target: 'flat (≤ 10 MB)',
          met: Math.abs(drift) <= 10,
          notes: 'mean RSS of the second half minus the first (after the first minute)',
        },
      );
    } finally {
      rmSync(tmp, { recursive: true, force: true });
      await scratch?.drop();
    }
    return rows;
  },
};
