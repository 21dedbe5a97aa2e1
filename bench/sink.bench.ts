import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Market } from '../src/simulate/market.ts';
import { PostgresStore } from '../src/store/postgres-store.ts';
import { openStore } from '../src/store/open-store.ts';
import { tradesToCopyBinary } from '../src/store/trade-copy-binary.ts';
import { emptyOutput } from '../src/engine/records.ts';
import type { Trade } from '../src/trade/trade.ts';
import { freshDatabase } from '../test/support/postgres.ts';
import type { Bench, BenchRow } from './bench.ts';

const N = 500_000;
const BATCH = 10_000;

function trades(): Trade[] {
  const m = new Market({ seed: 5 });
  const t0 = Date.UTC(2026, 10, 25, 14, 0, 0);
  return Array.from({ length: N }, (_, i) => m.next(t0 + i));
}

/** Writes as the pipeline does: two transactions in flight, each batch encoded while the other is sent. */
async function ourWriter(url: string, all: Trade[]): Promise<number> {
  const store = new PostgresStore(url);
  await store.migrate();
  const start = performance.now();
  const inflight: Promise<unknown>[] = [];
  for (let i = 0; i < all.length; i += BATCH) {
    const out = emptyOutput();
    out.trades = all.slice(i, i + BATCH);
    if (inflight.length >= 2) await inflight.shift();
    inflight.push(store.write(out));
  }
  await Promise.all(inflight);
  const rate = (all.length / (performance.now() - start)) * 1000;
  await store.close();
  return rate;
}

async function ourWriterReplaying(url: string, all: Trade[]): Promise<number> {
  // The same rows again: every batch conflicts, so this measures the idempotent staging path.
  const store = new PostgresStore(url);
  const start = performance.now();
  for (let i = 0; i < all.length; i += BATCH) {
    const out = emptyOutput();
    out.trades = all.slice(i, i + BATCH);
    await store.write(out);
  }
  const rate = (all.length / (performance.now() - start)) * 1000;
  await store.close();
  return rate;
}

function psqlCopy(url: string, file: string): number {
  const start = performance.now();
  const r = spawnSync(
    'psql',
    [url, '-v', 'ON_ERROR_STOP=1', '-qc', `\\copy stock_trades (trade_id, ticker, price, volume, trade_timestamp) from '${file}' with (format binary)`],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
  return (N / (performance.now() - start)) * 1000;
}

/** Our PostgreSQL writer against psql's COPY of the same rows into the same schema, same run. */
export const bench: Bench = {
  name: 'sink',
  async run(): Promise<BenchRow[]> {
    const all = trades();
    const file = join(mkdtempSync(join(tmpdir(), 'tickflow-bench-')), 'trades.copy');
    writeFileSync(file, tradesToCopyBinary(all));
    const ours: number[] = [];
    const copy: number[] = [];
    let replay = 0;
    for (let round = 0; round < 2; round++) {
      const a = await freshDatabase('tickflow_bench');
      const b = await freshDatabase('tickflow_bench');
      try {
        await (await openStore(b.url)).close();
        copy.push(psqlCopy(b.url, file));
        ours.push(await ourWriter(a.url, all));
        if (round === 0) replay = await ourWriterReplaying(a.url, all);
      } finally {
        await a.drop();
        await b.drop();
      }
    }
    const bestOurs = Math.max(...ours);
    const bestCopy = Math.max(...copy);
    const ratio = bestOurs / bestCopy;
    return [
      { name: 'psql \\copy into stock_trades (reference)', value: bestCopy, unit: 'rows/s', notes: `${N.toLocaleString('en-US')} rows, best of 2` },
      {
        name: 'tickflow PostgreSQL writer (new rows)',
        value: bestOurs,
        unit: 'rows/s',
        notes: `${BATCH.toLocaleString('en-US')}-row transactions, 2 in flight, best of 2`,
      },
      { name: 'writer / psql COPY', value: ratio, unit: '×', target: 'ratio ≥ 0.7', met: ratio >= 0.7 },
      { name: 'tickflow writer, full replay (all conflicts)', value: replay, unit: 'rows/s', notes: 'staging table + ON CONFLICT DO NOTHING' },
    ];
  },
};
