import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirtyFeed } from '../../src/simulate/dirty-feed.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { tickflow, TickflowProcess } from '../support/cli.ts';
import { freshDatabase } from '../support/postgres.ts';
import { waitFor } from '../support/wait.ts';
import { SseReader } from './helpers.ts';
import { parsePrometheus } from './prometheus-text.ts';

/**
 * The HTTP API of `tickflow serve` over a PostgreSQL database filled by a replay through the
 * real CLI; then a second replay while it serves, for the live stream.
 */
const dir = mkdtempSync(join(tmpdir(), 'tickflow-api-'));
const T0 = Date.UTC(2026, 10, 25, 14, 0, 0);
let pg: { url: string; drop: () => Promise<void> };
let db: Store;
let serve: TickflowProcess;
let base: string;

function writeFeed(name: string, seed: number, startMs: number, count: number, largeFraction: number): string {
  const file = join(dir, name);
  const lines = [...dirtyFeed({ seed, count, startMs, stepMs: 97, late: 0.01, largeFraction })];
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

async function get(path: string): Promise<{ status: number; body: any; type: string }> {
  const r = await fetch(`${base}${path}`);
  const text = await r.text();
  const type = r.headers.get('content-type') ?? '';
  return { status: r.status, body: type.startsWith('application/json') ? JSON.parse(text) : text, type };
}

beforeAll(async () => {
  pg = await freshDatabase();
  const first = writeFeed('first.jsonl', 7, T0, 3_000, 0.03);
  const r = await tickflow(['run', '--source', `file:${first}`, '--db', pg.url, '--no-dashboard', '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  db = await openStore(pg.url);
  serve = new TickflowProcess(['serve', '--db', pg.url, '--port', '0']);
  base = await serve.dashboardUrl();
});

afterAll(async () => {
  expect((await serve?.stop())?.code).toBe(0);
  await db?.close();
  await pg?.drop();
});

/**
 * The watchlist as docs/dashboard.md#watchlist defines it, computed by PostgreSQL from the
 * tables (NUMERIC arithmetic, round() half away from zero) — not by the server's code.
 */
async function expectedWatchlist(): Promise<unknown[]> {
  const rows = await db.query<Record<string, string>>(
    `WITH s AS (SELECT DISTINCT ON (ticker) ticker, date_trunc('day', window_start AT TIME ZONE 'UTC') AS d
                  FROM trade_candles ORDER BY ticker, window_start DESC),
          c AS (SELECT c.*, s.d FROM trade_candles c JOIN s USING (ticker) WHERE c.window_start AT TIME ZONE 'UTC' >= s.d),
          agg AS (SELECT ticker, d, sum(volume) AS volume, round(sum(vwap * volume) / sum(volume), 4) AS vwap,
                         (array_agg(open ORDER BY window_start))[1] AS open, (array_agg(close ORDER BY window_start DESC))[1] AS last,
                         max(window_start) AS newest,
                         (array_agg(close::text ORDER BY window_start DESC))[1:30] AS spark
                    FROM c GROUP BY ticker, d)
     SELECT ticker, to_char(d, 'YYYY-MM-DD') AS session, open::text AS open, last::text AS last,
            to_char(round((last - open) * 100 / open, 2), 'FM999999990.00') AS change_pct, volume::text AS volume, vwap::text AS vwap,
            (SELECT count(*) FROM trade_alerts a WHERE a.ticker = agg.ticker AND a.trade_timestamp AT TIME ZONE 'UTC' >= d
                AND a.trade_timestamp AT TIME ZONE 'UTC' < d + interval '1 day')::text AS alerts,
            array_to_json(spark)::text AS spark, to_char(newest AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last_window_start
       FROM agg ORDER BY ticker`,
  );
  return rows.map((r) => ({
    ...r,
    volume: Number(r.volume),
    alerts: Number(r.alerts),
    spark: (JSON.parse(r.spark!) as string[]).reverse(),
  }));
}

describe('GET /api/* over a replayed database', () => {
  it('lists the tickers that have candles, each with its last close', async () => {
    const r = await get('/api/tickers');
    expect(r.status).toBe(200);
    const expected = await db.query<{ ticker: string; close: string }>(
      `SELECT DISTINCT ON (ticker) ticker, close::text AS close FROM trade_candles ORDER BY ticker, window_start DESC`,
    );
    expect(r.body.tickers.map((t: any) => [t.ticker, t.last_close])).toEqual(expected.map((e) => [e.ticker, e.close]));
  });

  it("returns a ticker's candles oldest first, filtered by [from, to) and capped by limit", async () => {
    const all = await get('/api/candles?ticker=AAPL');
    expect(all.status).toBe(200);
    const { n } = (await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM trade_candles WHERE ticker = 'AAPL'`))[0]!;
    expect(all.body.candles).toHaveLength(Number(n));
    expect(all.body.candles.length).toBeGreaterThan(2);
    for (const c of all.body.candles) {
      expect(Object.keys(c).sort()).toEqual([
        'close',
        'closed',
        'high',
        'low',
        'open',
        'ticker',
        'trade_count',
        'volume',
        'vwap',
        'window_end',
        'window_start',
      ]);
      expect(c).toMatchObject({ ticker: 'AAPL', closed: true });
      expect(c.open).toMatch(/^\d+\.\d{4}$/);
      expect(Number(c.low)).toBeLessThanOrEqual(Number(c.high));
    }
    const starts = all.body.candles.map((c: any) => c.window_start);
    expect([...starts].sort()).toEqual(starts);
    expect(all.body.forming).toEqual([]); // serve sees only closed candles

    const from = starts[1];
    const to = starts[starts.length - 1];
    const ranged = await get(`/api/candles?ticker=aapl&from=${encodeURIComponent(from)}&to=${Date.parse(to)}`);
    expect(ranged.body.candles.map((c: any) => c.window_start)).toEqual(starts.slice(1, -1));

    const two = await get('/api/candles?ticker=AAPL&limit=2');
    expect(two.body.candles.map((c: any) => c.window_start)).toEqual(starts.slice(-2));
    const capped = await get('/api/candles?ticker=AAPL&limit=999999');
    expect(capped.status).toBe(200);
    expect(capped.body.limit).toBe(5_000);
  });

  it('returns trades newest first, by ticker and since', async () => {
    const r = await get('/api/trades?ticker=MSFT&limit=5');
    expect(r.status).toBe(200);
    expect(r.body.trades).toHaveLength(5);
    for (const t of r.body.trades) {
      expect(Object.keys(t).sort()).toEqual(['price', 'ticker', 'trade_id', 'trade_timestamp', 'volume']);
      expect(t.ticker).toBe('MSFT');
      expect(typeof t.volume).toBe('number');
    }
    const ts = r.body.trades.map((t: any) => t.trade_timestamp);
    expect([...ts].sort().reverse()).toEqual(ts);

    const since = T0 + 200_000;
    const recent = await get(`/api/trades?since=${since}&limit=1000`);
    const { n } = (
      await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM stock_trades WHERE trade_timestamp >= $1`, [new Date(since).toISOString()])
    )[0]!;
    expect(recent.body.trades).toHaveLength(Math.min(1000, Number(n)));
    for (const t of recent.body.trades) expect(Date.parse(t.trade_timestamp)).toBeGreaterThanOrEqual(since);

    const capped = await get('/api/trades?limit=1000000');
    expect(capped.body.limit).toBe(1_000);
    expect(capped.body.trades).toHaveLength(1_000);
  });

  it('returns alerts in the alerts-topic shape, filtered by kind, ticker and since', async () => {
    const r = await get('/api/alerts?limit=1000');
    expect(r.status).toBe(200);
    const { n } = (await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM trade_alerts`))[0]!;
    expect(r.body.alerts).toHaveLength(Number(n));
    const a = r.body.alerts[0];
    expect(Object.keys(a).sort()).toEqual([
      'alert_id',
      'amount',
      'baseline_mean',
      'change_percent',
      'detected_at',
      'factor',
      'kind',
      'lookback',
      'message',
      'notional',
      'price',
      'reference_price',
      'rule',
      'severity',
      'threshold',
      'ticker',
      'trade_id',
      'trade_timestamp',
      'volume',
      'window_seconds',
    ]);
    const large = await get('/api/alerts?kind=large_trade&limit=1000');
    expect(large.body.alerts.length).toBeGreaterThan(10);
    for (const x of large.body.alerts) {
      expect(x).toMatchObject({ kind: 'large_trade', rule: 'large', severity: 'warning' });
      expect(x.volume).toBeGreaterThan(x.threshold);
      expect(x.alert_id).toBe(`large:${x.trade_id}`);
    }
    const spikes = await get('/api/alerts?kind=volume_spike&ticker=TSLA&limit=1000');
    for (const x of spikes.body.alerts) expect(x).toMatchObject({ kind: 'volume_spike', ticker: 'TSLA', threshold: null });
    // By rule: exactly the rows of that rule, whatever kind.
    const byRule = await db.query<{ alert_id: string }>(`SELECT alert_id FROM trade_alerts WHERE rule = 'spike' ORDER BY alert_id`);
    expect(byRule.length).toBeGreaterThan(0);
    const spikeRule = await get('/api/alerts?rule=spike&limit=1000');
    expect(spikeRule.body.alerts.map((x: any) => x.alert_id).sort()).toEqual(byRule.map((x) => x.alert_id).sort());
    expect((await get('/api/alerts?rule=spike&kind=large_trade')).body.alerts).toEqual([]);
    expect((await get('/api/alerts?rule=nosuchrule')).body.alerts).toEqual([]);
    expect((await get('/api/alerts?kind=price_move')).status).toBe(200);
    const future = await get(`/api/alerts?since=${encodeURIComponent('2100-01-01T00:00:00Z')}`);
    expect(future.body.alerts).toEqual([]);
  });

  it('returns the watchlist: per ticker, its session figures computed from the stored candles and alerts', async () => {
    const r = await get('/api/watchlist');
    expect(r.status).toBe(200);
    expect(r.body.tickers.length).toBeGreaterThan(2);
    expect(r.body.tickers).toEqual(await expectedWatchlist());
    // Concrete, so the oracle itself cannot drift unseen: the feed starts at T0 on 2026-11-25.
    for (const row of r.body.tickers) {
      expect(row.session).toBe('2026-11-25');
      expect(row.open).toMatch(/^\d+\.\d{4}$/);
      expect(row.spark.length).toBeGreaterThan(2);
    }
    expect(r.body.tickers.reduce((n: number, x: any) => n + x.alerts, 0)).toBe(
      Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM trade_alerts`))[0]!.n),
    );
  });

  it.each([
    ['/api/candles', 'ticker', 'is required'],
    ['/api/candles?ticker=AAPL<b>', 'ticker', ''],
    ['/api/candles?ticker=AAPL&from=yesterday', 'from', 'ISO-8601'],
    ['/api/candles?ticker=AAPL&from=2026-11-25T14:00:00', 'from', 'zone'],
    ['/api/candles?ticker=AAPL&from=2026-11-25T15:00:00Z&to=2026-11-25T14:00:00Z', 'to', 'after'],
    ['/api/candles?ticker=AAPL&limit=0', 'limit', 'integer'],
    ['/api/trades?limit=-5', 'limit', 'integer'],
    ['/api/trades?limit=ten', 'limit', 'integer'],
    ['/api/trades?since=2026-13-45T00:00:00Z', 'since', ''],
    ['/api/trades?ticker=AAPL&ticker=MSFT', 'ticker', 'more than once'],
    ['/api/alerts?kind=big', 'kind', ''],
    ['/api/alerts?rule=', 'rule', 'rule name'],
    ['/api/alerts?rule=a%20b', 'rule', 'rule name'],
    [`/api/alerts?rule=${'x'.repeat(65)}`, 'rule', 'rule name'],
    ['/api/watchlist?ticker=AAPL', 'ticker', 'unknown parameter'],
    ['/api/alerts?tickr=AAPL', 'tickr', 'unknown parameter'],
    ['/api/tickers?x=1', 'x', 'unknown parameter'],
    ['/api/stats?limit=1', 'limit', 'unknown parameter'],
  ])('GET %s → 400 naming %s', async (path, param, words) => {
    const r = await get(path);
    expect(r.status).toBe(400);
    expect(r.body.error.startsWith(`${param}: `)).toBe(true);
    expect(r.body.error).toContain(words);
  });

  it('never answers 5xx, whatever the query parameters (fuzz)', async () => {
    const names = ['ticker', 'from', 'to', 'since', 'limit', 'kind', 'rule', 'token', 'last_event_id'];
    const value = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 30 }),
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.integer({ min: -1e15, max: 1e17 }).map(String),
      fc.double().map(String),
      fc.date({ min: new Date(-1e14), max: new Date(3e14), noInvalidDate: true }).map((d) => d.toISOString()),
      fc.constantFrom('AAPL', 'msft', 'large_trade', 'volume_spike', '0', '1', '5000', '5001', '', ' ', '%', "' OR 1=1 --", '9'.repeat(30)),
    );
    const query = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 8 })), value), { maxLength: 5 });
    const path = fc.constantFrom('/api/candles', '/api/trades', '/api/alerts', '/api/tickers', '/api/stats', '/api/watchlist');
    await fc.assert(
      fc.asyncProperty(path, query, async (p, q) => {
        const params = new URLSearchParams(q);
        const r = await fetch(`${base}${p}?${params}`);
        const body = await r.text();
        if (r.status >= 500 || ![200, 400].includes(r.status)) throw new Error(`${p}?${params} → ${r.status} ${body.slice(0, 200)}`);
        JSON.parse(body);
      }),
      { numRuns: 400 },
    );
  });

  it('refuses a Host header that is not loopback (DNS rebinding), but not /healthz', async () => {
    const status = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const u = new URL(`${base}${path}`);
        const req = request({ host: u.hostname, port: u.port, path: u.pathname, headers: { host: 'attacker.example' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await status('/api/stats')).toBe(403);
    expect(await status('/healthz')).toBe(200);
  });

  it('serves the page, its scripts and the chart library with its licence header', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.type).toContain('text/html');
    expect(page.body).toContain('/assets/lightweight-charts.js');
    const lib = await get('/assets/lightweight-charts.js');
    expect(lib.body).toContain('TradingView Lightweight Charts');
    expect(lib.body).toContain('Apache License 2.0');
    const r = await fetch(`${base}/`);
    expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await get('/nope')).status).toBe(404);
  });

  it('reports health, and /metrics from the tables', async () => {
    const h = await get('/healthz');
    expect(h.status).toBe(200);
    expect(h.body).toEqual({ status: 'ok', database: 'ok', pipeline: 'running' });
    const m = await get('/metrics');
    expect(m.type).toContain('text/plain; version=0.0.4');
    const metrics = parsePrometheus(m.body);
    const [row] = await db.query<{ trades: string; dead: string }>(
      `SELECT (SELECT count(*) FROM stock_trades)::text AS trades, (SELECT count(*) FROM dead_letters)::text AS dead`,
    );
    expect(metrics.value('tickflow_events_stored_total')).toBe(Number(row!.trades));
    expect(metrics.value('tickflow_events_rejected_total')).toBe(Number(row!.dead));
    expect(metrics.has('tickflow_events_read_total')).toBe(false); // unknown in serve mode: absent, not 0
  });
});

describe('GET /api/stream (Server-Sent Events)', () => {
  it('streams the alerts and candles a second replay commits, and resumes with Last-Event-ID', async () => {
    const live = new SseReader(`${base}/api/stream`);
    // A first connect gets the latest stats at once.
    await live.waitFor('stats', (e) => e.event === 'stats');
    const before = new Set((await db.query<{ alert_id: string }>(`SELECT alert_id FROM trade_alerts`)).map((r) => r.alert_id));

    const second = writeFeed('second.jsonl', 8, T0 + 3_600_000, 1_500, 0.01);
    const r = await tickflow(['run', '--source', `file:${second}`, '--db', pg.url, '--no-dashboard', '--json']);
    expect(r.code).toBe(0);
    const newAlerts = (await db.query<{ alert_id: string }>(`SELECT alert_id FROM trade_alerts`)).map((x) => x.alert_id).filter((id) => !before.has(id));
    const newCandles = await db.query<{ k: string }>(
      `SELECT ticker || '|' || to_char(window_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS k FROM trade_candles WHERE window_start >= $1`,
      [new Date(T0 + 3_600_000).toISOString()],
    );
    expect(newAlerts.length).toBeGreaterThan(5);

    // Every new candle arrives; alerts arrive or are counted as skipped (the stream caps its rate).
    await waitFor(
      () => {
        const seen = new Set(live.of('candle').map((c: any) => `${c.ticker}|${c.window_start}`));
        return newCandles.every((c) => seen.has(c.k));
      },
      { what: 'all new candles on the stream' },
    );
    const stats = await waitFor(
      async () => {
        const s = live.of('stats').at(-1) as any;
        const streamed = live.of('alert').length;
        return s &&
          streamed + s.alerts_not_streamed === newAlerts.length &&
          s.stored === Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM stock_trades`))[0]!.n)
          ? s
          : null;
      },
      { what: 'stats counting every new alert' },
    );
    expect(stats.source).toBe('database');
    // The watchlist followed the new candles and alerts live, to the same figures a fresh read gives.
    const expected = await expectedWatchlist();
    let served: unknown = null;
    await waitFor(
      async () => {
        served = (await get('/api/watchlist')).body.tickers;
        return isDeepStrictEqual(served, expected) || null;
      },
      { what: 'the watchlist to take in the second replay', context: () => JSON.stringify({ served, expected }).slice(0, 3000) },
    );
    const rows = await waitFor(
      () => {
        const latest = new Map(live.of('watchlist').map((w: any) => [w.ticker, w]));
        return expected.every((e: any) => isDeepStrictEqual(latest.get(e.ticker), e)) ? latest : null;
      },
      { what: 'watchlist events with the final rows' },
    );
    expect(rows.size).toBe(expected.length);
    const streamed = live.of('alert') as any[];
    expect(streamed.length).toBeGreaterThan(0);
    for (const a of streamed) expect(newAlerts).toContain(a.alert_id);

    // Resume from the middle: exactly the events after that id, in order.
    const ids = live.events.map((e) => e.id);
    const from = live.events[Math.floor(live.events.length / 2)]!.id!;
    const resumed = new SseReader(`${base}/api/stream`, { 'last-event-id': from });
    const expectedIds = ids.slice(ids.indexOf(from) + 1);
    await waitFor(() => resumed.events.length >= expectedIds.length, { what: 'the resumed stream to catch up' });
    expect(resumed.events.slice(0, expectedIds.length).map((e) => e.id)).toEqual(expectedIds);
    expect(resumed.events.every((e) => e.event !== 'reset')).toBe(true);

    // An id this server never issued: the client is told to reload.
    const stranger = new SseReader(`${base}/api/stream`, { 'last-event-id': 'zzzz-12' });
    const first = await waitFor(() => stranger.events[0], { what: 'a first event' });
    expect(first.event).toBe('reset');
    await Promise.all([live.stop(), resumed.stop(), stranger.stop()]);
  });
});
