import { Hono, type Context } from 'hono';
import type { SqlClient } from '../store/store.ts';
import { isTransientDbError } from '../store/transient-error.ts';
import { accessControl } from './access.ts';
import { alertsParams, candlesParams, noParams, parseQuery, tradesParams, type ParseResult } from './api-params.ts';
import { candleRange, recentAlerts, recentTrades, tickerList, watchlistSnapshot } from './api-queries.ts';
import type { LiveFeed } from './live-feed.ts';
import { liveStream } from './live-stream.ts';
import { METRICS_CONTENT_TYPE, renderMetrics } from './metrics.ts';
import { loadWebAssets } from './web-assets.ts';

export interface AppOptions {
  db: SqlClient;
  feed: LiveFeed;
  /** Required off loopback; see access.ts. */
  token: string | null;
  /** Where problems the user should see go (one line each). */
  log?: (line: string) => void;
}

/** Scripts and styles come only from this server; data is never rendered as HTML. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const HEALTH_TIMEOUT_MS = 2_000;

/** The dashboard's HTTP surface: page, JSON API, live stream, metrics, health. */
export function createApp(o: AppOptions): Hono {
  const { db, feed } = o;
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const assets = loadWebAssets();
  const app = new Hono();

  app.use('*', async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Content-Security-Policy', CSP);
  });
  app.use('*', accessControl(o.token));

  const bad = (c: Context, r: ParseResult<unknown> & { ok: false }) => c.json({ error: r.message }, 400);

  // At once, so the stream's watchlist rows start before anyone asks; a failure is retried by the next request.
  const loadWatchlist = () => feed.hub.watchlist.ensureLoaded(() => watchlistSnapshot(db));
  loadWatchlist().catch((e: Error) => log(`tickflow: watchlist: cannot read the database yet (${e.message}); retried on the next request`));

  app.get('/api/tickers', async (c) => {
    const q = parseQuery(noParams, new URL(c.req.url));
    if (!q.ok) return bad(c, q);
    const byTicker = new Map<string, { ticker: string; last_close: string; last_window_start: string }>();
    for (const r of await tickerList(db)) byTicker.set(r.ticker, r);
    // Tickers trading in this minute exist before their first candle closes.
    for (const f of feed.formingCandles()) {
      const known = byTicker.get(f.ticker);
      if (known === undefined || known.last_window_start <= f.window_start) {
        byTicker.set(f.ticker, { ticker: f.ticker, last_close: f.close, last_window_start: f.window_start });
      }
    }
    return c.json({ tickers: [...byTicker.values()].sort((a, b) => (a.ticker < b.ticker ? -1 : 1)) });
  });

  app.get('/api/candles', async (c) => {
    const q = parseQuery(candlesParams, new URL(c.req.url));
    if (!q.ok) return bad(c, q);
    const { ticker, from, to, limit } = q.value;
    if (from !== undefined && to !== undefined && from >= to) return c.json({ error: 'to: must be after from' }, 400);
    const candles = await candleRange(db, { ticker, from, to, limit });
    const forming = feed
      .formingCandles()
      .filter((f) => {
        const start = Date.parse(f.window_start);
        return f.ticker === ticker && (from === undefined || start >= from) && (to === undefined || start < to);
      })
      .sort((a, b) => (a.window_start < b.window_start ? -1 : 1));
    return c.json({ ticker, interval_ms: feed.candleIntervalMs, limit, candles, forming });
  });

  app.get('/api/trades', async (c) => {
    const q = parseQuery(tradesParams, new URL(c.req.url));
    if (!q.ok) return bad(c, q);
    return c.json({ limit: q.value.limit, trades: await recentTrades(db, q.value) });
  });

  app.get('/api/alerts', async (c) => {
    const q = parseQuery(alertsParams, new URL(c.req.url));
    if (!q.ok) return bad(c, q);
    return c.json({ limit: q.value.limit, alerts: await recentAlerts(db, q.value) });
  });

  app.get('/api/watchlist', async (c) => {
    const q = parseQuery(noParams, new URL(c.req.url));
    if (!q.ok) return bad(c, q);
    await loadWatchlist();
    return c.json({ tickers: feed.hub.watchlist.rows() });
  });

  app.get('/api/stats', async (c) => {
    const q = parseQuery(noParams, new URL(c.req.url));
    if (!q.ok) return bad(c, q);
    return c.json(await feed.stats());
  });

  app.get('/api/stream', (c) => liveStream(c, feed.hub));

  app.get('/metrics', async (c) => {
    const text = renderMetrics(await feed.stats(), { hub: feed.hub, sinkLatency: feed.sinkLatency });
    return c.body(text, 200, { 'Content-Type': METRICS_CONTENT_TYPE });
  });

  app.get('/healthz', async (c) => {
    let database = 'ok';
    try {
      await Promise.race([
        db.query('SELECT 1'),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${HEALTH_TIMEOUT_MS} ms`)), HEALTH_TIMEOUT_MS).unref()),
      ]);
    } catch (e) {
      database = (e as Error).message;
    }
    const pipeline = feed.running() ? 'running' : 'stopped';
    const ok = database === 'ok' && pipeline === 'running';
    return c.json({ status: ok ? 'ok' : 'unavailable', database, pipeline }, ok ? 200 : 503);
  });

  app.get('*', (c) => {
    const asset = assets.get(c.req.path);
    if (asset === undefined) return c.json({ error: `no such path: ${c.req.path.slice(0, 100)}` }, 404);
    return c.body(new Uint8Array(asset.body), 200, { 'Content-Type': asset.type, 'Cache-Control': 'no-cache' });
  });

  app.onError((e, c) => {
    log(`tickflow: ${c.req.method} ${c.req.path} failed: ${e.message}`);
    // A database restarting is not our bug: say so, and that asking again later will work.
    if (isTransientDbError(e)) return c.json({ error: `database unavailable: ${e.message}` }, 503, { 'Retry-After': '5' });
    return c.json({ error: `internal error: ${e.message}` }, 500);
  });

  return app;
}
