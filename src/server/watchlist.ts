import { divideHalfUp } from '../trade/decimal.ts';
import { formatPriceE4 } from '../trade/trade.ts';
import type { AlertJson, CandleJson } from './live-events.ts';

/**
 * One watchlist row: a ticker over its session, the UTC day of its newest candle (a replay of
 * an older day shows that day, as a quote screen shows the last session after the close).
 * docs/dashboard.md#watchlist defines each figure.
 */
export interface WatchlistRow {
  ticker: string;
  /** The session's UTC day, YYYY-MM-DD. */
  session: string;
  /** Open of the session's first candle: the session's first trade. */
  open: string;
  /** Close of the newest candle (the forming one where the feed has it). */
  last: string;
  /** (last − open) / open × 100, two decimals, rounded half away from zero. */
  change_pct: string;
  volume: number;
  /** Σ(candle vwap × candle volume) / Σ candle volume, four decimals, rounded half-up. */
  vwap: string;
  /** Alerts on the ticker's trades of the session. */
  alerts: number;
  /** Closes of the session's last SPARK_POINTS candles, oldest first. */
  spark: string[];
  /** window_start of the newest candle. */
  last_window_start: string;
}

/** What the database holds when the server starts: see watchlistSnapshot(). */
export interface WatchlistSnapshot {
  /** Every candle of each ticker's session. */
  candles: CandleJson[];
  /** Alerts per ticker in that ticker's session. */
  alertCounts: { ticker: string; session_ms: number; alerts: number }[];
  /** Alerts detected lately: the ones the stream may have counted already. */
  recentAlerts: { alert_id: string; ticker: string; trade_timestamp: string }[];
}

export const SPARK_POINTS = 30;
const DAY_MS = 86_400_000;
/** Candles kept one by one; older ones are summed (no feed changes a candle this long after it closed). */
const KEEP_WINDOWS = 120;
const COUNTED_IDS = 20_000;

interface Window {
  openE4: number;
  closeE4: number;
  volume: bigint;
  vwapE4: bigint;
}

interface TickerState {
  dayMs: number;
  windows: Map<number, Window>;
  /** Windows starting at or before this were folded into `base`. */
  foldedThrough: number;
  base: { volume: bigint; notionalE4: bigint };
  first: { startMs: number; openE4: number } | null;
  alerts: number;
  /** Alerts of a later day than the session, waiting for that day's first candle. */
  ahead: { dayMs: number; alerts: number } | null;
}

const dayOf = (ms: number): number => Math.floor(ms / DAY_MS) * DAY_MS;

/** NUMERIC(10,4) text → ×10^4; null for anything else (a writer we do not know may store odd rows: they are left out, never thrown). */
function e4(s: string): number | null {
  const m = /^(\d{1,6})(?:\.(\d{1,4}))?$/.exec(s);
  return m === null ? null : Number(m[1]) * 10_000 + Number((m[2] ?? '').padEnd(4, '0'));
}

/**
 * Per-ticker session figures, kept from the candles and alerts the live hub sees, so the
 * embedded run and `serve` compute them the same way and no request scans a table. A candle
 * seen again replaces the earlier state of its window; an alert_id is counted once.
 */
export class Watchlist {
  readonly #tickers = new Map<string, TickerState>();
  readonly #counted = new Set<string>();
  readonly #changed = new Set<string>();
  loaded = false;
  #loading: Promise<void> | null = null;

  /** Loads the database's part once; concurrent callers share the read, a failed one lets the next call try again. */
  ensureLoaded(read: () => Promise<WatchlistSnapshot>): Promise<void> {
    if (this.loaded) return Promise.resolve();
    this.#loading ??= read().then(
      (snap) => {
        if (!this.loaded) this.load(snap);
      },
      (e: unknown) => {
        this.#loading = null;
        throw e;
      },
    );
    return this.#loading;
  }

  /** Settles once no load is reading the database (whatever its outcome): before the database closes. */
  async idle(): Promise<void> {
    if (this.loaded) return;
    await this.#loading?.catch(() => {});
  }

  candle(c: CandleJson, o: { keepExisting?: boolean } = {}): void {
    const startMs = Date.parse(c.window_start);
    const [openE4, closeE4, vwapE4] = [e4(c.open), e4(c.close), e4(c.vwap)];
    if (!Number.isFinite(startMs) || openE4 === null || closeE4 === null || vwapE4 === null || !Number.isSafeInteger(c.volume) || c.volume < 0) return;
    const day = dayOf(startMs);
    let s = this.#tickers.get(c.ticker);
    if (s === undefined || day > s.dayMs) {
      const ahead = s?.ahead?.dayMs === day ? s.ahead.alerts : 0;
      s = fresh(day, ahead);
      this.#tickers.set(c.ticker, s);
    }
    if (day < s.dayMs || startMs <= s.foldedThrough) return;
    if (o.keepExisting && s.windows.has(startMs)) return;
    s.windows.set(startMs, { openE4, closeE4, volume: BigInt(c.volume), vwapE4: BigInt(vwapE4) });
    if (s.first === null || startMs < s.first.startMs) s.first = { startMs, openE4 };
    if (s.windows.size > KEEP_WINDOWS) fold(s);
    this.#changed.add(c.ticker);
  }

  alert(a: AlertJson): void {
    if (this.#counted.has(a.alert_id)) return;
    this.#remember(a.alert_id);
    const day = dayOf(Date.parse(a.trade_timestamp));
    if (!Number.isFinite(day)) return;
    let s = this.#tickers.get(a.ticker);
    if (s === undefined) {
      s = fresh(day, 0);
      this.#tickers.set(a.ticker, s);
    }
    if (day === s.dayMs) {
      s.alerts++;
      this.#changed.add(a.ticker);
    } else if (day > s.dayMs) {
      // Its trade's candle has not arrived yet: the alert belongs to the session that candle starts.
      if (s.ahead === null || day > s.ahead.dayMs) s.ahead = { dayMs: day, alerts: 1 };
      else if (day === s.ahead.dayMs) s.ahead.alerts++;
    }
  }

  /**
   * The database's state at start, merged under what the stream already delivered: a window
   * seen live keeps its live state, and an alert counted live is not counted again.
   */
  load(snap: WatchlistSnapshot): void {
    for (const c of snap.candles) this.candle(c, { keepExisting: true });
    const overlap = new Map<string, number>();
    for (const r of snap.recentAlerts) {
      if (!this.#counted.has(r.alert_id)) {
        this.#remember(r.alert_id);
        continue;
      }
      const s = this.#tickers.get(r.ticker);
      if (s !== undefined && dayOf(Date.parse(r.trade_timestamp)) === s.dayMs) overlap.set(r.ticker, (overlap.get(r.ticker) ?? 0) + 1);
    }
    for (const n of snap.alertCounts) {
      const s = this.#tickers.get(n.ticker);
      if (s === undefined || s.dayMs !== n.session_ms) continue;
      s.alerts += Math.max(0, n.alerts - (overlap.get(n.ticker) ?? 0));
    }
    for (const t of this.#tickers.keys()) this.#changed.add(t);
    this.loaded = true;
  }

  rows(): WatchlistRow[] {
    const out: WatchlistRow[] = [];
    for (const t of [...this.#tickers.keys()].sort()) {
      const r = this.row(t);
      if (r !== null) out.push(r);
    }
    return out;
  }

  row(ticker: string): WatchlistRow | null {
    const s = this.#tickers.get(ticker);
    if (s === undefined || s.first === null || s.windows.size === 0) return null;
    const starts = [...s.windows.keys()].sort((a, b) => a - b);
    let volume = s.base.volume;
    let notionalE4 = s.base.notionalE4;
    for (const w of s.windows.values()) {
      volume += w.volume;
      notionalE4 += w.vwapE4 * w.volume;
    }
    const newest = starts.at(-1)!;
    const lastE4 = s.windows.get(newest)!.closeE4;
    const openE4 = s.first.openE4;
    return {
      ticker,
      session: new Date(s.dayMs).toISOString().slice(0, 10),
      open: formatPriceE4(openE4),
      last: formatPriceE4(lastE4),
      change_pct: changePercent(lastE4, openE4),
      volume: Number(volume),
      vwap: volume === 0n ? formatPriceE4(lastE4) : formatPriceE4(Number(divideHalfUp(notionalE4, volume))),
      alerts: s.alerts,
      spark: starts.slice(-SPARK_POINTS).map((t) => formatPriceE4(s.windows.get(t)!.closeE4)),
      last_window_start: new Date(newest).toISOString(),
    };
  }

  /** Rows changed since the last call (for the live stream). */
  drainChanged(): WatchlistRow[] {
    const out: WatchlistRow[] = [];
    for (const t of this.#changed) {
      const r = this.row(t);
      if (r !== null) out.push(r);
    }
    this.#changed.clear();
    return out;
  }

  #remember(id: string): void {
    this.#counted.add(id);
    // Duplicates arrive close together (a replay, the start-up overlap): the oldest ids can go.
    if (this.#counted.size > COUNTED_IDS) this.#counted.delete(this.#counted.values().next().value!);
  }
}

function fresh(dayMs: number, alerts: number): TickerState {
  return { dayMs, windows: new Map(), foldedThrough: -Infinity, base: { volume: 0n, notionalE4: 0n }, first: null, alerts, ahead: null };
}

function fold(s: TickerState): void {
  const starts = [...s.windows.keys()].sort((a, b) => a - b);
  for (const t of starts.slice(0, s.windows.size - KEEP_WINDOWS)) {
    const w = s.windows.get(t)!;
    s.base.volume += w.volume;
    s.base.notionalE4 += w.vwapE4 * w.volume;
    s.foldedThrough = Math.max(s.foldedThrough, t);
    s.windows.delete(t);
  }
}

/** Percent with two decimals, exact: rounded half away from zero like PostgreSQL's round(). */
export function changePercent(lastE4: number, openE4: number): string {
  if (openE4 <= 0) return '0.00';
  const diff = BigInt(lastE4 - openE4);
  const hundredths = divideHalfUp((diff < 0n ? -diff : diff) * 10_000n, BigInt(openE4));
  const sign = diff < 0n && hundredths > 0n ? '-' : '';
  return `${sign}${hundredths / 100n}.${String(hundredths % 100n).padStart(2, '0')}`;
}
