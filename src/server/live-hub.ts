import { EventRing } from './event-ring.ts';
import type { AlertJson, CandleJson } from './live-events.ts';
import type { LiveStats } from './live-stats.ts';
import { Watchlist } from './watchlist.ts';

export type LiveEventType = 'candle' | 'alert' | 'stats' | 'watchlist' | 'reset';

/** One Server-Sent Event; `id` is "<epoch>-<seq>" so a client never resumes into another server's history. */
export interface LiveEvent {
  readonly seq: number;
  readonly id: string;
  readonly type: LiveEventType;
  readonly data: string;
  /** Events with the same key supersede each other (the latest state of a candle, the latest stats). */
  readonly key: string | null;
}

export interface LiveHubOptions {
  /** Events kept for Last-Event-ID resume. */
  retain?: number;
  /** How often coalesced candle updates and queued alerts go out. */
  flushMs?: number;
  /** Alerts streamed per flush at most; the rest are counted (they are stored and in the API). */
  maxAlertsPerFlush?: number;
  /** A subscriber further behind than this is cut off; it reconnects and resumes. */
  maxQueuePerSubscriber?: number;
  /** How often changed watchlist rows go out (each forming candle changes one). */
  watchlistMs?: number;
}

/**
 * The live feed between a pipeline (or a database poller) and the browsers. It aggregates:
 * candle updates are coalesced per (ticker, window) and sent only when they changed, alerts are
 * capped per flush, stats go out about once a second — so a browser receives tens of small
 * events a second whatever the trade rate, never the raw trades.
 */
export class LiveHub {
  readonly epoch = Date.now().toString(36);
  readonly #ring: EventRing<LiveEvent>;
  readonly #o: Required<LiveHubOptions>;
  readonly #subscribers = new Set<LiveSubscription>();
  readonly #pendingCandles = new Map<string, CandleJson>();
  readonly #lastCandleText = new Map<string, string>();
  #pendingAlerts: AlertJson[] = [];
  #watchlistSentAt = 0;
  #seq = 0;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  alertsNotStreamed = 0;
  readonly eventsByType: Record<LiveEventType, number> = { candle: 0, alert: 0, stats: 0, watchlist: 0, reset: 0 };
  /** Fed by every candle and alert published here, so both feeds keep it the same way. */
  readonly watchlist = new Watchlist();

  constructor(o: LiveHubOptions = {}) {
    this.#o = { retain: 2_048, flushMs: 250, maxAlertsPerFlush: 25, maxQueuePerSubscriber: 4_096, watchlistMs: 1_000, ...o };
    this.#ring = new EventRing(this.#o.retain);
  }

  start(): this {
    this.#timer ??= setInterval(() => this.flush(), this.#o.flushMs);
    this.#timer.unref();
    return this;
  }

  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /** A candle changed (forming) or closed; only its latest state per flush goes out. */
  publishCandle(c: CandleJson): void {
    this.#pendingCandles.set(`${c.ticker}|${c.window_start}`, c);
    this.watchlist.candle(c);
  }

  /** Counted in the watchlist even when the stream's cap skips it. */
  publishAlert(a: AlertJson): void {
    this.watchlist.alert(a);
    this.#pendingAlerts.push(a);
    // Bound memory between flushes: only the newest few can be streamed anyway.
    if (this.#pendingAlerts.length > this.#o.maxAlertsPerFlush * 4) {
      const drop = this.#pendingAlerts.length - this.#o.maxAlertsPerFlush;
      this.alertsNotStreamed += drop;
      this.#pendingAlerts = this.#pendingAlerts.slice(drop);
    }
  }

  /** Stats are already rate-limited by their producer; they go out at once. */
  publishStats(s: LiveStats): void {
    this.#emit('stats', JSON.stringify(s), 'stats');
  }

  flush(): void {
    for (const [key, c] of this.#pendingCandles) {
      const text = JSON.stringify(c);
      if (this.#lastCandleText.get(key) === text) continue;
      this.#lastCandleText.set(key, text);
      this.#emit('candle', text, `candle|${key}`);
    }
    this.#pendingCandles.clear();
    // Forget windows long gone so the change filter stays small.
    if (this.#lastCandleText.size > 4_096) {
      const keys = [...this.#lastCandleText.keys()];
      for (const k of keys.slice(0, keys.length - 2_048)) this.#lastCandleText.delete(k);
    }
    const alerts = this.#pendingAlerts;
    this.#pendingAlerts = [];
    const skip = Math.max(0, alerts.length - this.#o.maxAlertsPerFlush);
    this.alertsNotStreamed += skip;
    for (let i = skip; i < alerts.length; i++) this.#emit('alert', JSON.stringify(alerts[i]), null);
    // Rows wait for the database's part (loaded at start): a row without it would be wrong, not early.
    const now = Date.now();
    if (this.watchlist.loaded && now - this.#watchlistSentAt >= this.#o.watchlistMs) {
      this.#watchlistSentAt = now;
      for (const r of this.watchlist.drainChanged()) this.#emit('watchlist', JSON.stringify(r), `watchlist|${r.ticker}`);
    }
  }

  /**
   * Events for a client that connects with `lastEventId` (null on a first connect), then every
   * new one. A client that can resume gets exactly what it missed; a new client, or one whose
   * id is unknown or too old, gets `reset` (if it had an id) and the latest state of each candle
   * and the latest stats — alerts from before it connected come from /api/alerts.
   */
  subscribe(lastEventId: string | null): LiveSubscription {
    const sub = new LiveSubscription(this, this.#o.maxQueuePerSubscriber);
    const seq = this.#resumeSeq(lastEventId);
    if (seq !== null) {
      sub.enqueue(this.#ring.filter((e) => e.seq > seq));
    } else {
      const backlog: LiveEvent[] = [];
      if (lastEventId !== null) backlog.push(this.#makeEvent('reset', JSON.stringify({ reason: 'cannot resume from that event id; reload' }), null));
      backlog.push(...this.#latestStates());
      sub.enqueue(backlog);
    }
    if (this.#closed) sub.end();
    else this.#subscribers.add(sub);
    return sub;
  }

  unsubscribe(sub: LiveSubscription): void {
    this.#subscribers.delete(sub);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    for (const s of this.#subscribers) s.end();
    this.#subscribers.clear();
  }

  #resumeSeq(lastEventId: string | null): number | null {
    if (lastEventId === null) return null;
    const m = /^([0-9a-z]+)-(\d{1,15})$/.exec(lastEventId.trim());
    if (m === null || m[1] !== this.epoch) return null;
    const seq = Number(m[2]);
    const oldest = this.#ring.oldest()?.seq ?? this.#seq + 1;
    // Resumable when nothing after `seq` has been evicted and `seq` is not from the future.
    return seq >= oldest - 1 && seq <= this.#seq ? seq : null;
  }

  #latestStates(): LiveEvent[] {
    const latest = new Map<string, LiveEvent>();
    for (const e of this.#ring.filter((x) => x.key !== null)) latest.set(e.key!, e);
    return [...latest.values()].sort((a, b) => a.seq - b.seq);
  }

  #makeEvent(type: LiveEventType, data: string, key: string | null): LiveEvent {
    const seq = ++this.#seq;
    this.eventsByType[type]++;
    return { seq, id: `${this.epoch}-${seq}`, type, data, key };
  }

  #emit(type: LiveEventType, data: string, key: string | null): void {
    const e = this.#makeEvent(type, data, key);
    this.#ring.push(e);
    for (const s of this.#subscribers) s.enqueue([e]);
  }
}

/** One client's queue; the SSE route drains it with `next()`. */
export class LiveSubscription {
  readonly #hub: LiveHub;
  readonly #max: number;
  #queue: LiveEvent[] = [];
  #wake: (() => void) | null = null;
  #ended = false;
  /** True when the client fell too far behind and was cut off (it may resume). */
  overflowed = false;

  constructor(hub: LiveHub, max: number) {
    this.#hub = hub;
    this.#max = max;
  }

  enqueue(events: LiveEvent[]): void {
    if (this.#ended || events.length === 0) return;
    this.#queue.push(...events);
    if (this.#queue.length > this.#max) {
      this.overflowed = true;
      this.end();
      return;
    }
    this.#wake?.();
  }

  /** The queued events, waiting up to `timeoutMs` for some; [] on timeout; null once ended. */
  async next(timeoutMs: number): Promise<LiveEvent[] | null> {
    if (this.#queue.length === 0 && !this.#ended) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#wake = null;
          resolve();
        }, timeoutMs);
        this.#wake = () => {
          clearTimeout(timer);
          this.#wake = null;
          resolve();
        };
      });
    }
    if (this.#queue.length > 0 && !this.overflowed) {
      const out = this.#queue;
      this.#queue = [];
      return out;
    }
    return this.#ended ? null : [];
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#hub.unsubscribe(this);
    this.#wake?.();
  }
}
