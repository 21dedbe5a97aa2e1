import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSource, MAX_LINE_BYTES } from '../../src/source/file-source.ts';
import { defaultSpec } from '../../src/spec/spec.ts';
import { openStore } from '../../src/store/open-store.ts';
import { parseTradeBytes } from '../../src/trade/parse.ts';
import { tickflow } from '../support/cli.ts';
import { oracle, type Expected } from '../support/oracle.ts';
import { freshDatabase, readTables } from '../support/postgres.ts';
import { abusiveFeed, HTML_ID, SQL_ID, TEN_MB, writeFeed, type AbusiveLine } from './abusive-input.ts';

/**
 * Hostile records through the embedded pipeline as a user runs it (`tickflow run --source
 * file:…` and stdin): each one becomes a dead letter with its reason, or — when it is a valid
 * trade with hostile text in its id — is stored verbatim; every other trade is stored exactly.
 */
const dir = mkdtempSync(join(tmpdir(), 'tickflow-abuse-'));
const file = join(dir, 'abusive.jsonl');
let hostile: Map<number, AbusiveLine>;
let expected: Expected;
let pg: { url: string; drop: () => Promise<void> };

type DeadRow = {
  source_offset: string;
  reason_code: string;
  reason: string;
  size: number;
  raw: Buffer | null;
};

async function readAll(db: string) {
  const tables = await readTables(db);
  const store = await openStore(db);
  try {
    // Raw bytes only where they are small; the 10 MB one is checked by length.
    const dead = await store.query<DeadRow>(
      `SELECT source_offset::text AS source_offset, reason_code, reason, octet_length(raw) AS size,
              CASE WHEN octet_length(raw) < 200000 THEN raw END AS raw FROM dead_letters`,
    );
    const ids = (await store.query<{ trade_id: string }>(`SELECT trade_id FROM stock_trades`)).map((r) => r.trade_id);
    return { tables, dead: new Map(dead.map((d) => [Number(d.source_offset), d])), ids: new Set(ids) };
  } finally {
    await store.close();
  }
}

/** What the user must see: every hostile line accounted for by its line number, everything else exact. */
function expectAbuseHandled(actual: Awaited<ReturnType<typeof readAll>>): void {
  for (const [line, h] of hostile) {
    const d = actual.dead.get(line);
    if (h.fate.kind === 'dead') {
      expect(d, `line ${line} (${h.name}) is a dead letter`).toBeDefined();
      expect(d!.reason_code, h.name).toBe(h.fate.code);
      expect(d!.reason.length, h.name).toBeGreaterThan(5);
      expect(Number(d!.size), `${h.name}: raw kept whole`).toBe(h.bytes.length);
      if (d!.raw !== null) expect(Buffer.compare(Buffer.from(d!.raw), h.bytes), `${h.name}: raw bytes exact`).toBe(0);
    } else {
      expect(d, `line ${line} (${h.name}) is not a dead letter`).toBeUndefined();
      if (h.fate.kind === 'stored') expect(actual.ids.has(h.fate.tradeId), `${h.name} stored verbatim`).toBe(true);
    }
  }
  expect(actual.tables.trades).toEqual(expected.trades);
  expect(actual.tables.alerts).toEqual(expected.alerts);
  expect(actual.tables.candles).toEqual(expected.candles);
  expect(actual.tables.deadLetters).toEqual(expected.deadLetters);
}

beforeAll(async () => {
  const feed = abusiveFeed();
  hostile = feed.hostile;
  writeFeed(file, feed.lines);
  expected = oracle(feed.lines, file, defaultSpec());
  pg = await freshDatabase();
});

afterAll(async () => {
  await pg?.drop();
});

describe('hostile records through the embedded pipeline', () => {
  it('the input holds what it claims', () => {
    expect(readFileSync(file).length).toBeGreaterThan(TEN_MB);
    expect([...hostile.values()].filter((h) => h.fate.kind === 'dead').length).toBeGreaterThan(20);
    // The ordinary feed around them has its own replays, malformed lines and alerts.
    expect(expected.duplicates).toBeGreaterThan(5);
    expect(expected.alerts.length).toBeGreaterThan(10);
    expect(expected.alerts).toContain(`large:${HTML_ID}|large_trade|large|warning|NVDA|5000000|1000000||||||||`);
  });

  it('file: each hostile line is a dead letter with its reason (or stored verbatim); every other trade is stored exactly', async () => {
    const r = await tickflow(['run', '--source', `file:${file}`, '--db', pg.url, '--no-dashboard', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      read: expected.read,
      stored: expected.trades.length,
      duplicates: expected.duplicates,
      dead_letters: expected.deadLetters.length,
      alerts: expected.alerts.length,
    });
    const actual = await readAll(pg.url);
    expectAbuseHandled(actual);
    expect(actual.ids.has(SQL_ID)).toBe(true);
    // The table the SQL text names is still there, with everything in it.
    const store = await openStore(pg.url);
    const [{ n }] = (await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM stock_trades`)) as [{ n: number }];
    await store.close();
    expect(n).toBe(expected.trades.length);
  });

  it('stdin (file:-) into embedded PGlite: the same dead letters and rows', async () => {
    const db = `pglite:${join(dir, 'pgdata')}`;
    const r = await tickflow(['run', '--source', 'file:-', '--db', db, '--no-dashboard', '--json'], { input: readFileSync(file) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ read: expected.read, stored: expected.trades.length, dead_letters: expected.deadLetters.length });
    const actual = await readAll(db);
    // stdin names its records "stdin", the oracle named them by the file.
    actual.tables.deadLetters = actual.tables.deadLetters!.map((d) => d.replace(/^stdin\|/, `${file}|`)).sort();
    expectAbuseHandled(actual);
  });

  it('query shows a hostile trade_id as the text it is', async () => {
    const r = await tickflow(['query', 'trades', '--db', pg.url, '--limit', '5000', '--json']);
    expect(r.code).toBe(0);
    const ids = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).trade_id);
    expect(ids).toContain(SQL_ID);
    expect(ids).toContain(HTML_ID);
  });
});

describe('event times at the edge of the representable', () => {
  it('a trade in the last day of year 9999 is a dead letter, not a failed run (its candle would end in year 10000)', async () => {
    const path = join(dir, 'year-9999.jsonl');
    const at = (id: string, ts: string) => `{"trade_id":"${id}","ticker":"AAPL","price":"1","volume":1,"trade_timestamp":"${ts}"}`;
    writeFileSync(
      path,
      [
        at('before', '2026-11-25T14:00:00Z'),
        at('edge', '9999-12-31T23:59:59Z'),
        at('last-ok', '9999-12-30T23:59:59.999Z'),
        at('after', '2026-11-25T14:00:01Z'),
      ].join('\n'),
    );
    const db = `pglite:${join(dir, 'year-9999')}`;
    const r = await tickflow(['run', '--source', `file:${path}`, '--db', db, '--no-dashboard', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ read: 4, stored: 3, dead_letters: 1 });
    const store = await openStore(db);
    const dead = await store.query<{ source_offset: string; reason_code: string }>(
      `SELECT source_offset::text AS source_offset, reason_code FROM dead_letters`,
    );
    const last = await store.query<{ window_end: string }>(`SELECT window_end::text AS window_end FROM trade_candles ORDER BY window_start DESC LIMIT 1`);
    await store.close();
    expect(dead).toEqual([{ source_offset: '2', reason_code: 'invalid_timestamp' }]);
    expect(last[0]!.window_end).toBe('9999-12-31 00:00:00+00');
  });
});

describe('a line with no end', () => {
  it('the file source keeps a line only up to its cap, then skips to the newline (memory stays bounded)', async () => {
    const path = join(dir, 'endless.jsonl');
    const cap = 1024 * 1024;
    const valid = '{"trade_id":"after","ticker":"AAPL","price":"1","volume":1,"trade_timestamp":"2026-11-25T14:00:00Z"}';
    writeFileSync(
      path,
      Buffer.concat([
        Buffer.from('{"a":"'),
        Buffer.alloc(30 * cap, 0x61),
        Buffer.from('"}\n\n'),
        Buffer.from(`${valid}\n`),
        Buffer.from('tail-without-newline'),
      ]),
    );
    const records = [];
    for await (const batch of new FileSource(path, { maxLineBytes: cap }).batches(new AbortController().signal)) records.push(...batch);
    expect(records.map((r) => [r.offset, r.value.length])).toEqual([
      [1, cap + 1],
      [3, valid.length],
      [4, 'tail-without-newline'.length],
    ]);
    const cut = parseTradeBytes(records[0]!.value as Uint8Array, cap);
    expect(cut.ok || cut.code).toBe('too_large');
    expect(Buffer.from(records[2]!.value as Uint8Array).toString()).toBe('tail-without-newline');
  });

  it('tickflow run over a 64 MB line: one dead letter cut at 16 MiB + 1 byte, the trades after it stored', async () => {
    const path = join(dir, 'huge-line.jsonl');
    const valid = (id: string) => `{"trade_id":"${id}","ticker":"AAPL","price":"1","volume":1,"trade_timestamp":"2026-11-25T14:00:00Z"}`;
    writeFileSync(path, Buffer.concat([Buffer.from(`${valid('before')}\n`), Buffer.alloc(64 * 1024 * 1024, 0x5b), Buffer.from(`\n${valid('after')}\n`)]));
    // PostgreSQL: PGlite's own WASM heap (≈ 550 MB before any data) would hide what the source holds.
    const other = await freshDatabase();
    const db = other.url;
    const r = await tickflow(['run', '--source', `file:${path}`, '--db', db, '--no-dashboard', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ read: 3, stored: 2, dead_letters: 1 });
    // What the cut saves in memory is a benchmark's figure (bench/limits.bench.ts).
    console.log(`64 MB line: peak RSS ${s.peak_rss_mb} MB`);
    const store = await openStore(db);
    const [d] = await store.query<{ reason_code: string; reason: string; size: number; source_offset: string }>(
      `SELECT reason_code, reason, octet_length(raw) AS size, source_offset::text AS source_offset FROM dead_letters`,
    );
    await store.close();
    await other.drop();
    expect(d).toMatchObject({ reason_code: 'too_large', size: MAX_LINE_BYTES + 1, source_offset: '2' });
    expect(d!.reason).toContain(`${MAX_LINE_BYTES + 1} bytes`);
  });
});
