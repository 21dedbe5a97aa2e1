import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench, BenchRow } from './bench.ts';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

function runCli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`tickflow exited ${code}: ${err.trim()}`))));
  });
}

/** `tickflow run` end to end as a user runs it: simulator → engine → database, one process. */
export const bench: Bench = {
  name: 'embedded',
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    const count = 500_000;
    const targets: [string, string][] = [['PGlite', `pglite:${join(mkdtempSync(join(tmpdir(), 'tickflow-bench-')), 'pgdata')}`]];
    if (process.env.DATABASE_URL !== '') targets.push(['PostgreSQL', process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/tickflow_bench_e2e']);
    for (const [label, db] of targets) {
      const s = JSON.parse(
        await runCli(['run', '--rate', 'max', '--count', String(count), '--seed', String(Date.now() % 1e9), '--db', db, '--json', '--no-dashboard']),
      );
      rows.push({
        name: `tickflow run, simulator → ${label}`,
        value: s.trades_per_s,
        unit: 'trades/s',
        notes: `${count.toLocaleString('en-US')} trades, ${s.alerts} alerts, ${s.candles} candles; peak RSS ${s.peak_rss_mb} MB`,
      });
      rows.push({ name: `peak RSS, simulator → ${label}`, value: s.peak_rss_mb, unit: 'MB' });
    }
    return rows;
  },
};
