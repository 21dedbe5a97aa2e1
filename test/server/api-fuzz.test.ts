import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app.ts';
import { DatabaseFeed } from '../../src/server/database-feed.ts';
import { dirtyFeed } from '../../src/simulate/dirty-feed.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { tickflow } from '../support/cli.ts';
import { freshDatabase } from '../support/postgres.ts';

/**
 * Every parameter of the HTTP API under fast-check, in process (Hono's `app.request`) over a
 * real PostgreSQL database filled by a replay: whatever the query string, headers or path, the
 * answer is 200 or a 400 naming the parameter (404 for an unknown path), always JSON, never a
 * 5xx, and nothing reaches the error log. Well over 100,000 requests in all.
 */
const T0 = Date.UTC(2026, 10, 25, 14, 0, 0);
const HOST = { host: '127.0.0.1:3000' };
const TOKEN = 'fuzz-token-0123456789abcdef';
let pg: { url: string; drop: () => Promise<void> };
let store: Store;
let feed: DatabaseFeed;
let app: Hono;
let guarded: Hono;
const errors: string[] = [];
let requests = 0;
let ok200 = 0;
const started = performance.now();

/** Requests are counted so the suite can state (and check) how many cases it ran. */
async function call(a: Hono, path: string, headers: Record<string, string> = HOST): Promise<{ status: number; body: any }> {
  requests++;
  const r = await a.request(path, { headers });
  const text = await r.text();
  const type = r.headers.get('content-type') ?? '';
  if (!type.startsWith('application/json')) throw new Error(`${path} → ${r.status} ${type}: ${text.slice(0, 200)}`);
  if (r.status === 200) ok200++;
  return { status: r.status, body: JSON.parse(text) };
}

beforeAll(async () => {
  pg = await freshDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'tickflow-api-fuzz-'));
  const file = join(dir, 'feed.jsonl');
  writeFileSync(file, `${[...dirtyFeed({ seed: 5, count: 800, startMs: T0, stepMs: 1_000, largeFraction: 0.08 })].join('\n')}\n`);
  const r = await tickflow(['run', '--source', `file:${file}`, '--db', pg.url, '--no-dashboard', '--json']);
  expect(r.code).toBe(0);
  store = await openStore(pg.url);
  feed = await DatabaseFeed.start(store);
  const log = (line: string): void => void errors.push(line);
  app = createApp({ db: store, feed, token: null, log });
  guarded = createApp({ db: store, feed, token: TOKEN, log });
});

afterAll(async () => {
  console.log(`API fuzz: ${requests} requests (${ok200} answered 200) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await feed?.close();
  await store?.close();
  await pg?.drop();
});

const NAMES = ['ticker', 'from', 'to', 'since', 'limit', 'kind', 'rule', 'token', 'last_event_id'];

/** Values from the plausible to the hostile; plausible ones dominate so most requests reach SQL. */
const value = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom('AAPL', 'msft', ' nvda ', 'TSLA', 'BRK.B', 'ZZZZ', 'A-1', 'large_trade', 'volume_spike', 'price_move', 'large', 'spike'),
  },
  { weight: 3, arbitrary: fc.integer({ min: T0 - 3_600_000, max: T0 + 3_600_000 }).map(String) },
  { weight: 3, arbitrary: fc.integer({ min: T0 - 3_600_000, max: T0 + 3_600_000 }).map((ms) => new Date(ms).toISOString()) },
  { weight: 3, arbitrary: fc.integer({ min: -5, max: 60 }).map(String) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.integer({ min: -1e15, max: 1e17 }).map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
  { weight: 1, arbitrary: fc.date({ min: new Date(-1e14), max: new Date(3e14), noInvalidDate: true }).map((d) => d.toISOString()) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '%',
      '0',
      '1',
      '5000',
      '5001',
      '999999999',
      '1e3',
      '0x10',
      '-0',
      'NaN',
      'Infinity',
      '9'.repeat(30),
      "' OR 1=1 --",
      "AAPL'; DROP TABLE stock_trades;--",
      '<script>alert(1)</script>',
      '\u0000',
      '2026-11-25T14:00:00',
      '2026-02-30T00:00:00Z',
      '+275760-09-13T00:00:00Z',
      '9999-12-31T23:59:59.999Z',
      '10000-01-01T00:00:00Z',
      '1970-01-01T00:00:00Z',
      '2026-11-25T14:00:00+99:99',
      '2026-11-25T14:00:00.123456789Z',
      'ß',
      'ı',
      '\uD800',
    ),
  },
);
const name = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...NAMES) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) });
const hostilePairs = fc.array(fc.tuple(name, value), { maxLength: 5 });
/** Queries a dashboard would send: most reach SQL, with edge values in range. */
const time = fc.oneof(
  fc.integer({ min: T0 - 600_000, max: T0 + 1_200_000 }).map(String),
  fc.integer({ min: T0 - 600_000, max: T0 + 1_200_000 }).map((ms) => new Date(ms).toISOString()),
  fc.constantFrom('0', '1970-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '253402300799999'),
);
const PLAUSIBLE = {
  ticker: fc.constantFrom('AAPL', 'msft', 'NVDA', 'TSLA', 'ZZZZ'),
  from: time,
  to: time,
  since: time,
  kind: fc.constantFrom('large_trade', 'notional', 'volume_spike', 'price_move'),
  rule: fc.constantFrom('large', 'spike', 'whale', 'jump.5m', 'no-such_rule'),
  // Large pages are few: each costs a thousand rows of JSON and adds nothing new after the first.
  limit: fc.oneof({ weight: 30, arbitrary: fc.integer({ min: 1, max: 20 }) }, { weight: 1, arbitrary: fc.constantFrom(1_000, 5_000, 99_999) }).map(String),
};
const PARAMS: Record<string, (keyof typeof PLAUSIBLE)[]> = {
  '/api/candles': ['ticker', 'from', 'to', 'limit'],
  '/api/trades': ['ticker', 'since', 'limit'],
  '/api/alerts': ['ticker', 'kind', 'rule', 'since', 'limit'],
  '/api/tickers': [],
  '/api/watchlist': [],
  '/api/stats': [],
};
function pairsFor(endpoint: string): fc.Arbitrary<[string, string][]> {
  const keys = PARAMS[endpoint]!;
  const plausible = fc
    .record(Object.fromEntries(keys.map((k) => [k, PLAUSIBLE[k]])) as Record<string, fc.Arbitrary<string>>, { requiredKeys: [] })
    .map((o) => Object.entries(o) as [string, string][]);
  // Two hostile queries to one plausible: most reach SQL either way, and the file stays well under a minute.
  return fc.oneof({ weight: 2, arbitrary: hostilePairs }, { weight: 1, arbitrary: plausible });
}
/** Raw query text, percent-escapes included (broken ones and encoded invalid UTF-8 too). */
const rawQuery = fc
  .array(
    fc.oneof(
      fc.constantFrom('ticker=', 'limit=', 'from=', 'since=', '&', '=', '%', '%2', '%zz', '%ff%fe', '%00', '%C3%28', '%E2%82', '+', '#', '?', ';', '[]', '..'),
      fc.string({ unit: 'grapheme-ascii', maxLength: 6 }),
    ),
    { maxLength: 12 },
  )
  .map((a) => a.join(''));

function check(path: string, r: { status: number; body: any }): void {
  if (r.status === 200) return;
  if (r.status !== 400) throw new Error(`${path} → ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
  // A 400 names the parameter it is about.
  if (typeof r.body.error !== 'string' || !/^.{1,41}: ./s.test(r.body.error))
    throw new Error(`${path} → 400 without a parameter name: ${JSON.stringify(r.body)}`);
}

describe('fuzzing every API parameter (in process, real PostgreSQL)', () => {
  it('the database holds data to query', async () => {
    const r = await call(app, '/api/candles?ticker=AAPL');
    expect(r.status).toBe(200);
    expect(r.body.candles.length).toBeGreaterThan(5);
    expect((await call(app, '/api/alerts?limit=5')).body.alerts.length).toBe(5);
  });

  for (const [endpoint, runs] of [
    // /api/trades scans stock_trades (it has no time index), so it gets fewer runs than the rest.
    ['/api/candles', 26_000],
    ['/api/trades', 14_000],
    ['/api/alerts', 16_000],
    ['/api/tickers', 12_000],
    ['/api/stats', 12_000],
    ['/api/watchlist', 4_000],
  ] as const) {
    it(`${endpoint}: named and unknown parameters with arbitrary values → 200 or a 400 naming one (${runs} runs)`, async () => {
      await fc.assert(
        fc.asyncProperty(pairsFor(endpoint), async (q) => {
          const path = `${endpoint}?${new URLSearchParams(q)}`;
          const r = await call(app, path);
          check(path, r);
          if (r.status === 200 && 'limit' in r.body) expect(r.body.limit).toBeLessThanOrEqual(5_000);
        }),
        { numRuns: runs },
      );
    });
  }

  it('raw query strings with broken percent-escapes, on every endpoint (10,000 runs)', async () => {
    const endpoint = fc.constantFrom('/api/candles', '/api/trades', '/api/alerts', '/api/tickers', '/api/stats', '/api/watchlist');
    await fc.assert(
      fc.asyncProperty(endpoint, rawQuery, async (e, q) => {
        const path = `${e}?${q}`;
        check(path, await call(app, path));
      }),
      { numRuns: 10_000 },
    );
  });

  it('unknown paths under /api → 404 JSON, never a 5xx (2,000 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 20 }), async (s) => {
        const path = `/api/x${encodeURIComponent(s)}`;
        const r = await call(app, path);
        expect(r.status).toBe(404);
      }),
      { numRuns: 2_000 },
    );
  });

  it('/api/stream: any Last-Event-ID (header or ?last_event_id) → 200 and an event stream; unknown ids get "reset" (6,000 runs)', async () => {
    const epoch = feed.hub.epoch;
    // Header values are bytes: visible Latin-1, no CR/LF (what a client can send at all).
    const headerText = fc.string({
      unit: fc
        .integer({ min: 0x20, max: 0xff })
        .filter((c) => c !== 0x7f)
        .map((c) => String.fromCharCode(c)),
      maxLength: 40,
    });
    const id = fc.oneof(
      headerText,
      fc.nat({ max: 1_000_000 }).map((n) => `${epoch}-${n}`),
      fc.constantFrom(`${epoch}-`, `${epoch}-99999999999999999999`, `-${epoch}-1`, '0-0', ' ', `${epoch}-1e3`),
    );
    await fc.assert(
      fc.asyncProperty(id, fc.boolean(), async (lastId, asQuery) => {
        requests++;
        const path = asQuery ? `/api/stream?last_event_id=${encodeURIComponent(lastId)}` : '/api/stream';
        const headers: Record<string, string> = asQuery ? HOST : { ...HOST, 'last-event-id': lastId };
        const r = await app.request(path, { headers });
        expect(r.status).toBe(200);
        expect(r.headers.get('content-type')).toContain('text/event-stream');
        const reader = r.body!.getReader();
        let text = '';
        // "retry:" comes first; with an id we cannot resume from, a reset follows at once.
        const resumable = lastId.trim().startsWith(`${epoch}-`);
        while (!text.includes('retry:') || (!resumable && !text.includes('event: reset'))) {
          const { value: chunk, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(chunk);
        }
        await reader.cancel();
        expect(text).toContain('retry:');
        if (!resumable) expect(text).toContain('event: reset');
      }),
      { numRuns: 6_000 },
    );
    // Every cancelled stream let go of its subscription.
    await expect.poll(() => feed.hub.subscriberCount, { timeout: 5_000 }).toBe(0);
  });

  it('with a token: any token, header or cookie → 401 unless it is the right one, never a 5xx (4,000 runs)', async () => {
    const guess = fc.oneof(fc.string({ unit: 'grapheme-ascii', maxLength: 40 }), fc.constantFrom(TOKEN, `${TOKEN}x`, TOKEN.slice(1), TOKEN.toUpperCase(), ''));
    const where = fc.constantFrom('query', 'bearer', 'cookie');
    await fc.assert(
      fc.asyncProperty(guess, where, async (t, w) => {
        const headers: Record<string, string> = { host: 'dashboard.example:3000' };
        let path = '/api/stats';
        if (w === 'query') path += `?token=${encodeURIComponent(t)}`;
        if (w === 'bearer') headers.authorization = `Bearer ${t}`;
        if (w === 'cookie') headers.cookie = `tickflow_token=${t}`;
        const r = await call(guarded, path, headers);
        const right = (w === 'bearer' ? t.trim() : t) === TOKEN;
        expect(r.status).toBe(right ? 200 : 401);
        // The answer never echoes what was sent as a token.
        if (!right && t.length > 3) expect(JSON.stringify(r.body)).not.toContain(t);
      }),
      { numRuns: 4_000 },
    );
  });

  it('no request made the app log an error, and over 100,000 were made', () => {
    expect(errors).toEqual([]);
    expect(requests).toBeGreaterThanOrEqual(100_000);
    expect(ok200).toBeGreaterThan(15_000);
  });
});
