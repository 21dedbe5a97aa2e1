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
/**
 * Runs per `--rate max` row. One run's rate moves by ±15 % on a shared 2-core machine (and
 * into PostgreSQL it falls into a slow mode about one run in three), so a row is the median.
 */
const RUNS = Number(process.env.TICKFLOW_BENCH_EMBEDDED_RUNS ?? 5);
/** Length of the npm-start-like run: 10 minutes, the record the targets are about; shorter while developing. */
const START_SECONDS = Number(process.env.TICKFLOW_BENCH_START_SECONDS ?? 600);
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

function runCli(args: string[], o: { stopAfterMs?: number; sampleMs?: number; nodeFlags?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<Sampled> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(o.nodeFlags ?? []), MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: o.env ?? process.env });
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

/** A PGlite database in `dir`, removed after its run. */
function pgliteIn(dir: string): { db: string; drop: () => Promise<void> } {
  return { db: `pglite:${dir}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
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
    try {
      // The PGlite run twice: as the CLI runs it (it restarts itself with --liftoff-only), and
      // with that flag refused on Node's command line (which the CLI respects), to show what it is
      // worth in the same bench run. NODE_OPTIONS does not take V8's wasm flags.
      const targets: { label: string; target: number; nodeFlags?: string[]; db: (run: number) => Promise<{ db: string; drop: () => Promise<void> }> }[] = [
        { label: 'PGlite', target: 200_000, db: async (run) => pgliteIn(join(tmp, `pgdata-${run}`)) },
        {
          label: "PGlite without the CLI's --liftoff-only",
          target: 200_000,
          nodeFlags: ['--no-liftoff-only'],
          db: async (run) => pgliteIn(join(tmp, `pgdata-tiered-${run}`)),
        },
      ];
      // An empty database of its own per run unless DATABASE_URL names one, so that runs
      // compare: a shared one keeps every earlier run's rows (26.5M after an afternoon of runs),
      // and a larger primary-key index makes every COPY slower.
      if (process.env.DATABASE_URL !== '') {
        const given = process.env.DATABASE_URL;
        targets.push({
          label: 'PostgreSQL',
          target: 300_000,
          db: async () => {
            if (given !== undefined) return { db: given, drop: async () => {} };
            const fresh = await freshDatabase('tickflow_bench_e2e');
            return { db: fresh.url, drop: fresh.drop };
          },
        });
      }
      for (const { label, target, nodeFlags, db } of targets) {
        const runs: { trades_per_s: number; peak_rss_mb: number; alerts: number; candles: number }[] = [];
        for (let run = 0; run < RUNS; run++) {
          const store = await db(run);
          try {
            const { out } = await runCli(
              ['run', '--rate', 'max', '--count', String(COUNT), '--seed', String(Date.now() % 1e9), '--db', store.db, '--json', '--no-dashboard'],
              { nodeFlags },
            );
            runs.push(JSON.parse(out) as (typeof runs)[number]);
          } finally {
            await store.drop();
          }
        }
        const rates = runs.map((r) => r.trades_per_s).sort((a, b) => a - b);
        const rate = median(rates);
        const peak = Math.max(...runs.map((r) => r.peak_rss_mb));
        const each = `${RUNS} runs of ${COUNT.toLocaleString('en-US')} trades`;
        rows.push({
          name: `tickflow run --rate max, simulator → ${label}`,
          value: rate,
          unit: 'trades/s',
          target: `≥ ${target.toLocaleString('en-US')}/s`,
          met: rate >= target,
          notes: `median of ${each} (run --json): ${rates.map((r) => Math.round(r / 1000)).join(' / ')}k; ${runs[0]!.alerts} alerts, ${runs[0]!.candles} candles in the first`,
        });
        rows.push({
          name: `peak RSS, run --rate max → ${label}`,
          value: peak,
          unit: 'MB',
          target: label.startsWith('PGlite') ? '≤ 400 MB' : undefined,
          met: label.startsWith('PGlite') ? peak <= 400 : undefined,
          notes: `the highest of the ${RUNS} runs' getrusage maxRSS (run --json peak_rss_mb): ${runs.map((r) => r.peak_rss_mb).join(' / ')}`,
        });
      }

      // What `npm start` does: simulator at 1,000 trades/s, dashboard on, PGlite; RSS sampled.
      // As the first run on a machine, the worst case: with an empty user cache, so that it
      // makes the PGlite template and compiles every module.
      const { samples } = await runCli(['run', '--db', `pglite:${join(tmp, 'start')}`, '--port', String(PORT), '--json'], {
        stopAfterMs: START_SECONDS * 1000,
        sampleMs: Math.max(1000, START_SECONDS * 10),
        env: { ...process.env, XDG_CACHE_HOME: join(tmp, 'first-run-cache') },
      });
      const after = (sec: number): number => samples.find(([t]) => t >= sec)?.[1] ?? Number.NaN;
      const max = Math.max(...samples.map(([, r]) => r));
      const half = samples.filter(([t]) => t >= START_SECONDS / 2).map(([, r]) => r);
      const firstHalf = samples.filter(([t]) => t >= Math.min(60, START_SECONDS / 4) && t < START_SECONDS / 2).map(([, r]) => r);
      const drift = mean(half) - mean(firstHalf);
      const last = samples.at(-1)?.[1] ?? Number.NaN;
      const span = `${START_SECONDS} s of npm-start-like run (1,000 trades/s, dashboard, PGlite; the first on a machine: empty user cache), sampled every ${Math.max(1, START_SECONDS / 100)} s`;
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
    }
    return rows;
  },
};
