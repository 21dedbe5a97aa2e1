import type { SqlClient } from '../store/store.ts';
import { alertsDetectedSince, candlesStartingSince, tableTotals } from './api-queries.ts';
import type { LiveFeed } from './live-feed.ts';
import { LiveHub, type LiveHubOptions } from './live-hub.ts';
import type { CandleJson } from './live-events.ts';
import { RateMeter, type LiveStats } from './live-stats.ts';

export interface DatabaseFeedOptions {
  pollMs?: number;
  statsMs?: number;
  /**
   * Rows are re-read this far behind the newest seen: a writer may commit an older row after
   * a newer one (several Flink sink tasks, several consumers). Rows older than that are not
   * streamed (a page reload shows them).
   */
  overlapMs?: number;
  hub?: LiveHubOptions;
  /** false when alerts reach the hub another way (the alerts topic); the table still counts them. */
  alertsFromTable?: boolean;
}

/**
 * The live feed of `tickflow serve`: polls the tables a Flink job or a Kafka consumer fills and
 * publishes new alerts, new or changed closed candles, and table totals. Only what arrives after
 * it starts is streamed; history comes from the API.
 */
export class DatabaseFeed implements LiveFeed {
  readonly hub: LiveHub;
  readonly sinkLatency = null;
  candleIntervalMs: number | null = null;
  readonly #db: SqlClient;
  readonly #o: Required<Omit<DatabaseFeedOptions, 'hub'>>;
  readonly #rate = new RateMeter(5_000);
  readonly #seenAlerts = new Map<string, number>();
  readonly #seenCandles = new Map<string, { text: string; startMs: number }>();
  #alertCursorMs = 0;
  #candleCursorMs = 0;
  #latest: LiveStats | null = null;
  #timers: NodeJS.Timeout[] = [];
  #polling = false;
  #lastError: string | null = null;
  #closed = false;

  private constructor(db: SqlClient, o: DatabaseFeedOptions) {
    this.#db = db;
    this.#o = { pollMs: 1_000, statsMs: 2_000, overlapMs: 10_000, alertsFromTable: true, ...o };
    this.hub = new LiveHub(o.hub).start();
  }

  static async start(db: SqlClient, o: DatabaseFeedOptions = {}): Promise<DatabaseFeed> {
    const feed = new DatabaseFeed(db, o);
    const [now] = await db.query<{ ms: number }>(`SELECT (extract(epoch FROM now()) * 1000)::float8 AS ms`);
    feed.#alertCursorMs = Number(now!.ms);
    // Existing candles are history; changes to the newest windows and new windows are live.
    const totals = await tableTotals(db);
    feed.#candleCursorMs = totals.newest_candle_ms ?? 0;
    await feed.#poll(true);
    await feed.#refreshStats();
    feed.#timers.push(setInterval(() => void feed.#poll(false), feed.#o.pollMs));
    feed.#timers.push(setInterval(() => void feed.#refreshStats(), feed.#o.statsMs));
    for (const t of feed.#timers) t.unref();
    return feed;
  }

  async stats(): Promise<LiveStats> {
    return this.#latest ?? (await this.#refreshStats());
  }

  formingCandles(): CandleJson[] {
    return [];
  }

  running(): boolean {
    return !this.#closed && this.#lastError === null;
  }

  /** Why the last poll failed, if it did (the poller keeps trying). */
  get lastError(): string | null {
    return this.#lastError;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    // Let a poll in flight finish before the caller closes the database under it.
    while (this.#polling) await new Promise((r) => setTimeout(r, 20));
    this.hub.close();
  }

  async #poll(initial: boolean): Promise<void> {
    if (this.#polling || this.#closed) return;
    this.#polling = true;
    try {
      if (this.#o.alertsFromTable) await this.#pollAlerts(initial);
      await this.#pollCandles(initial);
      this.#lastError = null;
    } catch (e) {
      this.#lastError = (e as Error).message;
    } finally {
      this.#polling = false;
    }
  }

  async #pollAlerts(initial: boolean): Promise<void> {
    const from = this.#alertCursorMs - this.#o.overlapMs;
    const rows = await alertsDetectedSince(this.#db, from, 2_000);
    for (const r of rows) {
      if (this.#seenAlerts.has(r.alert_id)) continue;
      this.#seenAlerts.set(r.alert_id, r.detected_ms);
      if (r.detected_ms > this.#alertCursorMs) this.#alertCursorMs = r.detected_ms;
      const { detected_ms: _, ...alert } = r;
      if (!initial) this.hub.publishAlert(alert);
    }
    for (const [id, ms] of this.#seenAlerts) if (ms < this.#alertCursorMs - 2 * this.#o.overlapMs) this.#seenAlerts.delete(id);
  }

  async #pollCandles(initial: boolean): Promise<void> {
    const from = this.#candleCursorMs - Math.max(this.#o.overlapMs, 2 * (this.candleIntervalMs ?? 60_000));
    const rows = await candlesStartingSince(this.#db, from, 5_000);
    for (const r of rows) {
      const { start_ms: startMs, ...candle } = r;
      this.candleIntervalMs ??= Date.parse(candle.window_end) - startMs;
      const key = `${candle.ticker}|${candle.window_start}`;
      const text = JSON.stringify(candle);
      if (this.#seenCandles.get(key)?.text === text) continue;
      this.#seenCandles.set(key, { text, startMs });
      if (startMs > this.#candleCursorMs) this.#candleCursorMs = startMs;
      if (!initial) this.hub.publishCandle(candle);
    }
    for (const [k, v] of this.#seenCandles) if (v.startMs < from) this.#seenCandles.delete(k);
  }

  async #refreshStats(): Promise<LiveStats> {
    try {
      const t = await tableTotals(this.#db);
      const alerts = Object.values(t.alerts).reduce((a, b) => a + b, 0);
      const dead = Object.values(t.dead_letters).reduce((a, b) => a + b, 0);
      this.#latest = {
        source: 'database',
        pipeline: 'running',
        time: new Date().toISOString(),
        read: null,
        stored: t.trades,
        duplicates: null,
        dead_letters: dead,
        dead_letters_by_reason: t.dead_letters,
        late: null,
        alerts,
        alerts_by_kind: { large_trade: 0, volume_spike: 0, ...t.alerts },
        candles: t.candles,
        trades_per_s: this.#rate.sample(t.trades),
        sink_lag_records: null,
        sink_retries: null,
        sink_unavailable_s: null,
        consumer_lag: null,
        watermark: null,
        alerts_not_streamed: this.hub.alertsNotStreamed,
      };
      if (!this.#closed) this.hub.publishStats(this.#latest);
    } catch (e) {
      this.#lastError = (e as Error).message;
      if (this.#latest === null) throw e;
    }
    return this.#latest;
  }
}
