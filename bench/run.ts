import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench, BenchRow } from './bench.ts';

/**
 * `npm run bench [name…]`: runs bench/*.bench.ts (or the named ones), prints one table and
 * writes bench/results/<bench>-<timestamp>.json. Targets are reported, never asserted.
 */
const here = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.includes(f.replace('.bench.ts', '')))
  .sort();

const resultsDir = join(here, 'results');
mkdirSync(resultsDir, { recursive: true });
const all: (BenchRow & { bench: string })[] = [];
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
for (const f of files) {
  const { bench } = (await import(join(here, f))) as { bench: Bench };
  process.stderr.write(`bench ${bench.name}…\n`);
  try {
    const rows = await bench.run();
    for (const r of rows) all.push({ bench: bench.name, ...r });
    writeFileSync(
      join(resultsDir, `${bench.name}-${stamp}.json`),
      `${JSON.stringify({ bench: bench.name, at: new Date().toISOString(), node: process.version, rows }, null, 2)}\n`,
    );
  } catch (e) {
    process.stderr.write(`bench ${bench.name} failed: ${(e as Error).message}\n`);
    all.push({ bench: bench.name, name: 'FAILED', value: Number.NaN, unit: '', notes: (e as Error).message });
  }
}

const fmt = (n: number): string => (Number.isNaN(n) ? '—' : Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));
const table = all.map((r) => [
  r.bench,
  r.name,
  `${fmt(r.value)} ${r.unit}`.trim(),
  r.target ?? '',
  r.met === undefined ? '' : r.met ? 'yes' : 'NO',
  r.notes ?? '',
]);
const head = ['bench', 'measure', 'value', 'target', 'met', 'notes'];
const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
const line = (cells: string[]): string =>
  cells
    .map((c, i) => c.padEnd(widths[i]!))
    .join('  ')
    .trimEnd();
process.stdout.write(`${[line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...table.map(line)].join('\n')}\n`);
