import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirtyFeed } from '../../src/simulate/dirty-feed.ts';
import { defaultSpec } from '../../src/spec/spec.ts';
import { tickflow } from '../support/cli.ts';
import { oracle, type Expected } from '../support/oracle.ts';
import { freshDatabase, readTables } from '../support/postgres.ts';

const dir = mkdtempSync(join(tmpdir(), 'tickflow-e2e-'));
const file = join(dir, 'trades.jsonl');
let expected: Expected;
let pg: { url: string; drop: () => Promise<void> };

beforeAll(async () => {
  // 3,000 lines: replays, malformed records, bounded disorder, the seed's `timestamp` alias and
  // a few late trades, plus the oddities of real files.
  const lines = [...dirtyFeed({ seed: 42, count: 3_000, startMs: Date.UTC(2026, 10, 25, 14, 0, 0), stepMs: 97, late: 0.01, largeFraction: 0.03 })].map((l) =>
    Buffer.from(l),
  );
  lines.splice(
    100,
    0,
    Buffer.from(''),
    Buffer.from([0x7b, 0xc3, 0x28, 0x7d]),
    Buffer.from('{"trade_id":"tab\\tid","ticker":"TAB","price":"1","volume":1,"trade_timestamp":"2026-11-25T14:00:05Z"}'),
  );
  writeFileSync(file, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
  const asRead = readFileSync(file)
    .toString('latin1')
    .split('\n')
    .slice(0, -1)
    .map((l) => Buffer.from(l, 'latin1'));
  expected = oracle(asRead, file, defaultSpec());
  pg = await freshDatabase();
});

afterAll(async () => {
  await pg?.drop();
});

describe('tickflow run --source file: (embedded engine, end to end)', () => {
  it('the generated input exercises every path', () => {
    expect(expected.duplicates).toBeGreaterThan(20);
    expect(expected.late).toBeGreaterThan(5);
    expect(expected.deadLetters.length).toBeGreaterThan(20);
    expect(expected.alerts.some((a) => a.startsWith('spike:'))).toBe(true);
    expect(expected.alerts.some((a) => a.startsWith('large:'))).toBe(true);
    expect(expected.candles.length).toBeGreaterThan(10);
  });

  it('stores exactly the expected rows in PostgreSQL', async () => {
    const r = await tickflow(['run', '--source', `file:${file}`, '--db', pg.url, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({
      read: expected.read,
      stored: expected.trades.length,
      duplicates: expected.duplicates,
      alerts: expected.alerts.length,
      dead_letters: expected.deadLetters.length,
      late: expected.late,
      candles: expected.candles.length,
    });
    const actual = await readTables(pg.url);
    expect(actual.trades).toEqual(expected.trades);
    expect(actual.alerts).toEqual(expected.alerts);
    expect(actual.candles).toEqual(expected.candles);
    expect(actual.deadLetters).toEqual(expected.deadLetters);
  });

  it('stores nothing new when the same file runs again', async () => {
    const before = await readTables(pg.url);
    const r = await tickflow(['run', '--source', `file:${file}`, '--db', pg.url, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).stored).toBe(0);
    expect(await readTables(pg.url)).toEqual(before);
  });

  it('gives the same rows on embedded PGlite', async () => {
    const db = `pglite:${join(dir, 'pgdata')}`;
    const r = await tickflow(['run', '--source', `file:${file}`, '--db', db, '--json']);
    expect(r.code).toBe(0);
    const actual = await readTables(db);
    expect(actual.trades).toEqual(expected.trades);
    expect(actual.alerts).toEqual(expected.alerts);
    expect(actual.candles).toEqual(expected.candles);
    expect(actual.deadLetters).toEqual(expected.deadLetters);
    const again = await tickflow(['run', '--source', `file:${file}`, '--db', db, '--json']);
    expect(JSON.parse(again.stdout).stored).toBe(0);
    expect(await readTables(db)).toEqual(actual);
  });

  it('reads stdin with file:- and small batches give the same result', async () => {
    const other = await freshDatabase();
    try {
      const r = await tickflow(['run', '--source', 'file:-', '--db', other.url, '--json', '--batch-size', '7'], { input: readFileSync(file) });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        read: expected.read,
        stored: expected.trades.length,
        duplicates: expected.duplicates,
        alerts: expected.alerts.length,
        dead_letters: expected.deadLetters.length,
        late: expected.late,
        candles: expected.candles.length,
      });
      const actual = await readTables(other.url);
      expect(actual.trades).toEqual(expected.trades);
      expect(actual.alerts).toEqual(expected.alerts);
      expect(actual.candles).toEqual(expected.candles);
      // stdin names its records "stdin", the oracle named them by the file.
      expect(actual.deadLetters.map((d) => d.replace(/^stdin\|/, `${file}|`)).sort()).toEqual(expected.deadLetters);
      expect(actual.rejected).toEqual((await readTables(pg.url)).rejected);
    } finally {
      await other.drop();
    }
  });
});
