/**
 * Fault 5: `kill -9` of an embedded `tickflow run --source file:…` mid-stream, then the same
 * command again. Rerunning a file is the recovery: writes are idempotent (trade_id, alert_id
 * and window keys), so the database ends complete and without duplicates — on embedded PGlite
 * (the default database, which must also recover its own files) and on PostgreSQL.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirtyFeed } from '../../src/simulate/dirty-feed.ts';
import { defaultSpec } from '../../src/spec/spec.ts';
import { tickflow, TickflowProcess } from '../support/cli.ts';
import { oracle, type Expected } from '../support/oracle.ts';
import { freshDatabase, readTables } from '../support/postgres.ts';
import { bySize } from '../support/soak.ts';
import { waitFor } from '../support/wait.ts';
import { metric } from './fault-support.ts';

const COUNT = bySize(150_000, 250_000);
const KILLS = bySize(2, 5);
const dir = mkdtempSync(join(tmpdir(), 'tickflow-kill-'));
const file = join(dir, 'trades.jsonl');
let expected: Expected;
const dbs: { drop: () => Promise<void> }[] = [];

beforeAll(() => {
  const lines = [...dirtyFeed({ seed: 9001, count: COUNT, startMs: Date.parse('2026-11-20T14:00:00Z'), stepMs: 23, largeFraction: 0.01 })];
  writeFileSync(file, `${lines.join('\n')}\n`);
  const asRead = readFileSync(file)
    .toString('latin1')
    .split('\n')
    .slice(0, -1)
    .map((l) => Buffer.from(l, 'latin1'));
  expected = oracle(asRead, file, defaultSpec());
}, 600_000);

afterAll(async () => {
  for (const d of dbs) await d.drop();
});

/** Starts the run, waits until it has read `fraction` of the file, then kill -9. */
async function runAndKill(db: string, fraction: number): Promise<void> {
  const run = new TickflowProcess(['run', '--source', `file:${file}`, '--db', db, '--port', '0', '--batch-size', '2000']);
  const base = await run.dashboardUrl();
  await waitFor(
    async () => {
      if (!run.running) throw new Error(`the run ended before the kill: ${run.stderr}`);
      return ((await metric(base, 'tickflow_events_read_total')) ?? 0) >= fraction * COUNT;
    },
    { what: `${Math.round(fraction * 100)} % of the file read`, timeoutMs: 300_000 },
  );
  run.child.kill('SIGKILL');
  const r = await run.done;
  expect(r.signal).toBe('SIGKILL');
}

async function finishAndCheck(db: string): Promise<void> {
  const r = await tickflow(['run', '--source', `file:${file}`, '--db', db, '--json', '--no-dashboard'], { timeoutMs: 300_000 });
  expect(r.code, r.stderr).toBe(0);
  const summary = JSON.parse(r.stdout);
  // The rerun found part of the file already stored (the killed runs did real work).
  expect(summary.stored).toBeLessThan(expected.trades.length);
  const actual = await readTables(db);
  expect(actual.trades).toEqual(expected.trades);
  expect(actual.alerts).toEqual(expected.alerts);
  expect(actual.candles).toEqual(expected.candles);
  expect(actual.deadLetters).toEqual(expected.deadLetters);
}

describe('kill -9 during an embedded file run, then the same command again', () => {
  it(`PGlite: ${KILLS} kills, then a full run — complete, no duplicates, the data folder recovers`, async () => {
    const db = `pglite:${join(dir, 'pgdata')}`;
    for (let k = 0; k < KILLS; k++) await runAndKill(db, (k + 1) / (KILLS + 2));
    await finishAndCheck(db);
  });

  it(`PostgreSQL: ${KILLS} kills, then a full run — complete, no duplicates`, async () => {
    const pg = await freshDatabase('tickflow_kill');
    dbs.push(pg);
    for (let k = 0; k < KILLS; k++) await runAndKill(pg.url, (k + 1) / (KILLS + 2));
    await finishAndCheck(pg.url);
  });
});
