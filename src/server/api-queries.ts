import type { SqlClient } from '../store/store.ts';
import { SEVERITIES, type Severity } from '../rules/severity.ts';
import type { AlertJson, CandleJson } from './live-events.ts';
import type { WatchlistSnapshot } from './watchlist.ts';

/**
 * The API's reads; parameterized only. Times go in as epoch milliseconds and come out as
 * ISO-8601 UTC text; prices as exact NUMERIC text.
 */

const ISO_MS = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const iso = (col: string): string => `to_char(${col} AT TIME ZONE 'UTC', ${ISO_MS})`;
const fromMs = (p: string): string => `to_timestamp(${p}::float8 / 1000)`;

export async function tickerList(db: SqlClient): Promise<{ ticker: string; last_window_start: string; last_close: string }[]> {
  // DISTINCT ON over the (ticker, window_start) primary key: one row per ticker, its newest candle.
  return db.query(
    `SELECT DISTINCT ON (ticker) ticker, ${iso('window_start')} AS last_window_start, close::text AS last_close
       FROM trade_candles ORDER BY ticker, window_start DESC`,
  );
}

export interface CandleQuery {
  ticker: string;
  from?: number | undefined;
  to?: number | undefined;
  limit: number;
}

/** The newest `limit` candles in [from, to), returned oldest first (the order a chart wants). */
export async function candleRange(db: SqlClient, q: CandleQuery): Promise<CandleJson[]> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT * FROM (
       SELECT ticker, ${iso('window_start')} AS window_start, ${iso('window_end')} AS window_end,
              open::text AS open, high::text AS high, low::text AS low, close::text AS close,
              volume::text AS volume, vwap::text AS vwap, trade_count, window_start AS ws
         FROM trade_candles
        WHERE ticker = $1
          AND ($2::text IS NULL OR window_start >= ${fromMs('$2')})
          AND ($3::text IS NULL OR window_start < ${fromMs('$3')})
        ORDER BY window_start DESC LIMIT $4) c
     ORDER BY ws`,
    [q.ticker, q.from?.toString() ?? null, q.to?.toString() ?? null, q.limit],
  );
  return rows.map(candleRow);
}

export function candleRow(r: Record<string, unknown>): CandleJson {
  return {
    ticker: String(r.ticker),
    window_start: String(r.window_start),
    window_end: String(r.window_end),
    open: String(r.open),
    high: String(r.high),
    low: String(r.low),
    close: String(r.close),
    volume: Number(r.volume),
    vwap: String(r.vwap),
    trade_count: Number(r.trade_count),
    closed: true,
  };
}

export interface TradeQuery {
  ticker?: string | undefined;
  since?: number | undefined;
  limit: number;
}

/** Newest first. (stock_trades is indexed only by trade_id: this scans; it is not on the dashboard's path.) */
export async function recentTrades(db: SqlClient, q: TradeQuery): Promise<Record<string, unknown>[]> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT trade_id, ticker, price::text AS price, volume, ${iso('trade_timestamp')} AS trade_timestamp
       FROM stock_trades
      WHERE ($1::text IS NULL OR ticker = $1) AND ($2::text IS NULL OR trade_timestamp >= ${fromMs('$2')})
      ORDER BY trade_timestamp DESC, trade_id LIMIT $3`,
    [q.ticker ?? null, q.since?.toString() ?? null, q.limit],
  );
  return rows.map((r) => ({ ...r, volume: Number(r.volume) }));
}

export interface AlertQuery {
  ticker?: string | undefined;
  kind?: string | undefined;
  rule?: string | undefined;
  since?: number | undefined;
  limit: number;
}

const ALERT_COLUMNS = `alert_id, kind, rule, severity, trade_id, ticker, price::text AS price, volume, ${iso('trade_timestamp')} AS trade_timestamp,
  threshold::text AS threshold, amount::text AS amount, notional::text AS notional, baseline_mean::text AS baseline_mean,
  factor::float8 AS factor, lookback, reference_price::text AS reference_price, change_percent::text AS change_percent, window_seconds,
  ${iso('detected_at')} AS detected_at, message, detected_at AS d`;

/** Newest detected first; `since` compares with detected_at (indexed). */
export async function recentAlerts(db: SqlClient, q: AlertQuery): Promise<AlertJson[]> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT ${ALERT_COLUMNS} FROM trade_alerts
      WHERE ($1::text IS NULL OR ticker = $1) AND ($2::text IS NULL OR kind = $2) AND ($5::text IS NULL OR rule = $5)
        AND ($3::text IS NULL OR detected_at >= ${fromMs('$3')})
      ORDER BY detected_at DESC, alert_id DESC LIMIT $4`,
    [q.ticker ?? null, q.kind ?? null, q.since?.toString() ?? null, q.limit, q.rule ?? null],
  );
  return rows.map(alertRow);
}

/** Alerts detected at or after `sinceMs`, oldest first (for the database poller). */
export async function alertsDetectedSince(db: SqlClient, sinceMs: number, limit: number): Promise<(AlertJson & { detected_ms: number })[]> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT ${ALERT_COLUMNS}, (extract(epoch FROM detected_at) * 1000)::float8 AS detected_ms FROM trade_alerts
      WHERE detected_at >= ${fromMs('$1')} ORDER BY detected_at, alert_id LIMIT $2`,
    [sinceMs.toString(), limit],
  );
  return rows.map((r) => ({ ...alertRow(r), detected_ms: Number(r.detected_ms) }));
}

export function alertRow(r: Record<string, unknown>): AlertJson {
  return {
    alert_id: String(r.alert_id),
    kind: String(r.kind),
    rule: String(r.rule),
    // A writer we do not know could store anything here; the page styles only these three.
    severity: SEVERITIES.includes(r.severity as Severity) ? (r.severity as Severity) : 'warning',
    trade_id: String(r.trade_id),
    ticker: String(r.ticker),
    price: String(r.price),
    volume: Number(r.volume),
    trade_timestamp: String(r.trade_timestamp),
    threshold: r.threshold === null ? null : Number(r.threshold),
    amount: r.amount === null ? null : String(r.amount),
    notional: r.notional === null ? null : String(r.notional),
    baseline_mean: r.baseline_mean === null ? null : String(r.baseline_mean),
    factor: r.factor === null ? null : Number(r.factor),
    lookback: r.lookback === null ? null : Number(r.lookback),
    reference_price: r.reference_price === null ? null : String(r.reference_price),
    change_percent: r.change_percent === null ? null : String(r.change_percent),
    window_seconds: r.window_seconds === null ? null : Number(r.window_seconds),
    detected_at: String(r.detected_at),
    message: String(r.message),
  };
}

/** Candles starting at or after `sinceMs`, for the database poller. */
export async function candlesStartingSince(db: SqlClient, sinceMs: number, limit: number): Promise<(CandleJson & { start_ms: number })[]> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT ticker, ${iso('window_start')} AS window_start, ${iso('window_end')} AS window_end,
            open::text AS open, high::text AS high, low::text AS low, close::text AS close,
            volume::text AS volume, vwap::text AS vwap, trade_count,
            (extract(epoch FROM window_start) * 1000)::float8 AS start_ms
       FROM trade_candles WHERE window_start >= ${fromMs('$1')} ORDER BY window_start, ticker LIMIT $2`,
    [sinceMs.toString(), limit],
  );
  return rows.map((r) => ({ ...candleRow(r), start_ms: Number(r.start_ms) }));
}

/** Table totals for a database another process fills. */
export async function tableTotals(db: SqlClient): Promise<{
  trades: number;
  candles: number;
  dead_letters: Record<string, number>;
  alerts: Record<string, number>;
  newest_candle_ms: number | null;
}> {
  const [t] = await db.query<{ trades: string; candles: string; newest: number | null }>(
    `SELECT (SELECT count(*) FROM stock_trades)::text AS trades, (SELECT count(*) FROM trade_candles)::text AS candles,
            (SELECT (extract(epoch FROM max(window_start)) * 1000)::float8 FROM trade_candles) AS newest`,
  );
  const alerts = await db.query<{ kind: string; n: string }>(`SELECT kind, count(*)::text AS n FROM trade_alerts GROUP BY kind`);
  const dead = await db.query<{ reason_code: string; n: string }>(`SELECT reason_code, count(*)::text AS n FROM dead_letters GROUP BY reason_code`);
  return {
    trades: Number(t!.trades),
    candles: Number(t!.candles),
    alerts: Object.fromEntries(alerts.map((r) => [r.kind, Number(r.n)])),
    dead_letters: Object.fromEntries(dead.map((r) => [r.reason_code, Number(r.n)])),
    newest_candle_ms: t!.newest === null ? null : Number(t!.newest),
  };
}

/**
 * The watchlist's start: each ticker's session (the UTC day of its newest candle), that
 * session's candles and alert count, and the alerts detected in the last ten minutes (which the
 * live stream may deliver too). Reads trade_candles by its primary key; run once per server.
 */
export async function watchlistSnapshot(db: SqlClient): Promise<WatchlistSnapshot> {
  const sessions = `SELECT DISTINCT ON (ticker) ticker, date_trunc('day', window_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day
                      FROM trade_candles ORDER BY ticker, window_start DESC`;
  const candles = await db.query<Record<string, unknown>>(
    `WITH s AS (${sessions})
     SELECT c.ticker, ${iso('c.window_start')} AS window_start, ${iso('c.window_end')} AS window_end,
            open::text AS open, high::text AS high, low::text AS low, close::text AS close,
            volume::text AS volume, vwap::text AS vwap, trade_count
       FROM trade_candles c JOIN s ON c.ticker = s.ticker AND c.window_start >= s.day
      ORDER BY c.ticker, c.window_start`,
  );
  const counts = await db.query<{ ticker: string; session_ms: number; alerts: string }>(
    `WITH s AS (${sessions})
     SELECT s.ticker, (extract(epoch FROM s.day) * 1000)::float8 AS session_ms, count(a.alert_id)::text AS alerts
       FROM s JOIN trade_alerts a ON a.ticker = s.ticker AND a.trade_timestamp >= s.day AND a.trade_timestamp < s.day + interval '1 day'
      GROUP BY s.ticker, s.day`,
  );
  const recent = await db.query<{ alert_id: string; ticker: string; trade_timestamp: string }>(
    `SELECT alert_id, ticker, ${iso('trade_timestamp')} AS trade_timestamp FROM trade_alerts
      WHERE detected_at >= now() - interval '10 minutes' ORDER BY detected_at DESC LIMIT 20000`,
  );
  return {
    candles: candles.map(candleRow),
    alertCounts: counts.map((r) => ({ ticker: r.ticker, session_ms: Number(r.session_ms), alerts: Number(r.alerts) })),
    recentAlerts: recent,
  };
}
