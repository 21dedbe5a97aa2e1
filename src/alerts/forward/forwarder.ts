import { setTimeout as sleep } from 'node:timers/promises';
import type { AlertJson } from '../../kafka/alert-json.ts';
import { TickflowError } from '../../tickflow-error.ts';
import { RecentIds } from '../recent-ids.ts';
import { type Backoff, backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';
import { post } from './deliver.ts';
import { slackBody, slackSummaryBody, summaryLine, webhookBody, webhookSummaryBody } from './format.ts';
import { HeldBack } from './held-back.ts';
import { describeTarget, type Target } from './target.ts';

/** One thing offered to the forwarder, in the order of its source. */
export interface ForwardItem<P = unknown> {
  /** null: a record that is no alert. It forwards nothing but keeps its place, so positions settle in order. */
  readonly alert: AlertJson | null;
  /** The alert's JSON exactly as published; `webhook:` posts these bytes when given. */
  readonly raw?: string;
  /** Where the item came from (a topic offset): handed back through onSettled, in order. */
  readonly position?: P;
}

export interface ForwarderOptions<P> {
  readonly target: Target;
  /** Alerts sent one by one per window; the rest of the window go out as one summary when it ends. */
  readonly maxPerMinute: number;
  /** Fail (forward_failed) when the endpoint has not taken anything for this long; undefined: retry for ever. */
  readonly maxOutageMs?: number | undefined;
  /** Items queued at most; offer() beyond it names the alert in the next summary instead. */
  readonly capacity?: number;
  /** Alert ids remembered to drop replayed copies. */
  readonly rememberIds?: number;
  /** Items held back for one summary at most; then taking stops until the window ends. */
  readonly maxHeld?: number;
  /** Alerts per Slack message at most (a webhook gets one alert per POST). */
  readonly slackBatch?: number;
  readonly requestTimeoutMs?: number;
  readonly backoff?: Backoff;
  /** The rate limit's window. */
  readonly windowMs?: number;
  /**
   * Items that are done — delivered, refused, dropped as a replay, or named in a delivered
   * summary — in the order they were offered. Awaited before the next message is sent, so a
   * position stored here is never ahead of a delivery and never more than one message behind.
   */
  readonly onSettled?: (items: readonly ForwardItem<P>[]) => void | Promise<void>;
  /** Lines for the operator (stderr in the CLI), without a prefix. */
  readonly log?: (line: string) => void;
  /** The command the forward_failed message names. */
  readonly name?: string;
}

export interface ForwardStats {
  /** Alerts the endpoint took one by one. */
  delivered: number;
  /** Alerts the endpoint refused for good (a 4xx other than 408/429). */
  refused: number;
  /** Replayed copies of an alert_id already forwarded. */
  duplicates: number;
  /** Alerts named in summaries instead of being sent one by one (delivered summaries only). */
  heldBack: number;
  summaries: number;
  /** Attempts that failed and were retried. */
  retries: number;
  /** offer()ed while the queue was full: named in a summary, never sent one by one. */
  overflowed: number;
}

export interface CloseOptions {
  /** Keep delivering what is queued for up to this long, within the rate limit; a pending summary goes out once the queue is empty. 0: only finish the message in flight. */
  readonly drainMs?: number;
}

type SendResult = 'delivered' | 'refused' | 'stopped';

const LOG_EVERY_MS = 30_000;

/**
 * Forwards alerts to one endpoint, at least once, in order, without blocking whoever feeds it.
 * offer() queues and returns at once; one background loop delivers with retries (exponential
 * backoff with jitter, Retry-After honoured), drops replayed alert_ids, applies the rate limit
 * and hands finished items back through onSettled. Fed from a topic by `tickflow alerts
 * forward`; an embedded run can feed it directly.
 */
export class Forwarder<P = unknown> {
  readonly stats: ForwardStats = { delivered: 0, refused: 0, duplicates: 0, heldBack: 0, summaries: 0, retries: 0, overflowed: 0 };
  /** Settles when the loop has ended; rejects with forward_failed after --max-outage. */
  readonly done: Promise<void>;
  readonly #o: Required<Omit<ForwarderOptions<P>, 'maxOutageMs' | 'onSettled' | 'log'>> & Pick<ForwarderOptions<P>, 'maxOutageMs' | 'onSettled' | 'log'>;
  readonly #where: string;
  readonly #queue: ForwardItem<P>[] = [];
  readonly #seen: RecentIds;
  readonly #held: HeldBack;
  /** Items behind the first held-back alert: they settle with the summary, to keep settling in order. */
  #heldItems: ForwardItem<P>[] = [];
  #window: { startMs: number; sent: number } | null = null;
  #failingSince: number | null = null;
  #failures = 0;
  #lastLogMs = 0;
  #closing = false;
  #drainUntil = 0;
  readonly #stop = new AbortController();
  #wakeUp: (() => void) | null = null;
  #spaceWaiters: { readonly atLeast: number; readonly resolve: () => void }[] = [];

  constructor(o: ForwarderOptions<P>) {
    this.#o = {
      capacity: 1_000,
      rememberIds: 100_000,
      maxHeld: 10_000,
      slackBatch: 10,
      requestTimeoutMs: 10_000,
      backoff: DEFAULT_BACKOFF,
      windowMs: 60_000,
      name: 'alerts forward',
      ...o,
    };
    this.#where = describeTarget(o.target);
    this.#seen = new RecentIds(this.#o.rememberIds);
    this.#held = new HeldBack(this.#o.maxHeld);
    this.#stop.signal.addEventListener('abort', () => this.#poke());
    this.done = this.#run().finally(() => {
      this.#closing = true;
      for (const w of this.#spaceWaiters.splice(0)) w.resolve();
    });
    // The caller awaits done or close(); an unobserved rejection must not crash the process first.
    this.done.catch(() => {});
  }

  /** Free places in the queue. */
  get space(): number {
    return Math.max(0, this.#o.capacity - this.#queue.length);
  }

  /** Items queued and not yet taken by the delivery loop. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Alerts not forwarded yet: queued, or held back for a summary not sent yet. After close(), what was left undone. */
  get pending(): number {
    return this.#queue.filter((i) => i.alert !== null).length + this.#held.count;
  }

  /**
   * Queues items and returns at once with how many were queued. Past the capacity (the endpoint
   * is down and the feed goes on), an alert is not queued: it is named in the next summary.
   */
  offer(items: readonly ForwardItem<P>[]): number {
    if (this.#closing) return 0;
    let accepted = 0;
    for (const item of items) {
      if (this.#queue.length < this.#o.capacity) {
        this.#queue.push(item);
        accepted++;
      } else if (item.alert !== null && this.#seen.add(item.alert.alert_id)) {
        const now = Date.now();
        this.#window ??= { startMs: now, sent: 0 };
        this.#held.add(item.alert, now, { dropped: true });
        this.stats.overflowed++;
      }
    }
    if (accepted > 0) this.#poke();
    return accepted;
  }

  /** Ids already forwarded (by an earlier run): their copies are dropped as replays. */
  remember(ids: Iterable<string>): void {
    for (const id of ids) this.#seen.add(id);
  }

  /** Resolves when the queue has room for `atLeast` items (at most its capacity), or the forwarder is closing. */
  whenSpace(atLeast = 1): Promise<void> {
    const wanted = Math.min(Math.max(1, atLeast), this.#o.capacity);
    if (this.space >= wanted || this.#closing) return Promise.resolve();
    return new Promise((resolve) => this.#spaceWaiters.push({ atLeast: wanted, resolve }));
  }

  /**
   * Stops. The message in flight is finished (its request, not its retries); with drainMs the
   * queue and then a pending summary go out first, for up to that long. What is left is not settled.
   */
  async close(o: CloseOptions = {}): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      const drainMs = o.drainMs ?? 0;
      this.#drainUntil = Date.now() + drainMs;
      if (drainMs <= 0) this.#stop.abort();
      else setTimeout(() => this.#stop.abort(), drainMs).unref();
      for (const w of this.#spaceWaiters.splice(0)) w.resolve();
      this.#poke();
    }
    await this.done;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #run(): Promise<void> {
    for (;;) {
      const now = Date.now();
      const draining = this.#closing && !this.#stop.signal.aborted && now < this.#drainUntil;
      if (this.#stop.signal.aborted) return;
      // A window that ended with alerts held back: their summary goes first, before anything after them.
      // A drain sends it once nothing else is queued: sent earlier, it would open a new window, and
      // a drain must not get past the rate limit.
      if (this.#held.count > 0 && ((draining && this.#queue.length === 0) || now >= this.#window!.startMs + this.#o.windowMs)) {
        if ((await this.#sendSummary()) === 'stopped') return;
        continue;
      }
      if (this.#held.count === 0 && this.#heldItems.length > 0) await this.#settle(this.#heldItems.splice(0));
      if (this.#closing && !draining) return;
      if (this.#queue.length === 0 || this.#heldItems.length >= this.#o.maxHeld) {
        if (this.#closing && this.#queue.length === 0 && this.#held.count === 0) return;
        await this.#sleepUntilPoked(this.#held.count > 0 ? this.#window!.startMs + this.#o.windowMs - now : undefined);
        continue;
      }
      const item = this.#take();
      if (item.alert === null || !this.#seen.add(item.alert.alert_id)) {
        if (item.alert !== null) this.stats.duplicates++;
        if (this.#held.count > 0) this.#heldItems.push(item);
        else await this.#settle([item]);
        continue;
      }
      if (this.#window === null || now >= this.#window.startMs + this.#o.windowMs) this.#window = { startMs: now, sent: 0 };
      if (this.#held.count > 0 || this.#window.sent >= this.#o.maxPerMinute) {
        if (this.#held.count === 0) {
          const until = new Date(this.#window.startMs + this.#o.windowMs).toISOString().slice(11, 19);
          this.#o.log?.(`forward: ${this.#o.maxPerMinute} alerts sent this minute; holding the rest for one summary at ${until} UTC`);
        }
        this.#held.add(item.alert, now);
        this.#heldItems.push(item);
        continue;
      }
      const batch = [item];
      if (this.#o.target.kind === 'slack') {
        const room = Math.min(this.#o.slackBatch, this.#o.maxPerMinute - this.#window.sent);
        while (batch.length < room && this.#queue.length > 0) {
          const next = this.#queue[0]!;
          if (next.alert === null || this.#seen.has(next.alert.alert_id)) break;
          this.#seen.add(next.alert.alert_id);
          batch.push(this.#take());
        }
      }
      const alerts = batch.map((b) => b.alert!);
      const body = this.#o.target.kind === 'slack' ? slackBody(alerts) : webhookBody(alerts[0]!, item.raw);
      const what = alerts.length === 1 ? alerts[0]!.alert_id : `${alerts.length} alerts (${alerts[0]!.alert_id} …)`;
      const r = await this.#send(body, what);
      if (r === 'stopped') return;
      this.#window.sent += batch.length;
      if (r === 'delivered') this.stats.delivered += batch.length;
      else this.stats.refused += batch.length;
      await this.#settle(batch);
    }
  }

  #take(): ForwardItem<P> {
    const item = this.#queue.shift()!;
    if (this.#spaceWaiters.length > 0) {
      const space = this.space;
      const ready = this.#spaceWaiters.filter((w) => w.atLeast <= space);
      this.#spaceWaiters = this.#spaceWaiters.filter((w) => w.atLeast > space);
      for (const w of ready) w.resolve();
    }
    return item;
  }

  async #sendSummary(): Promise<SendResult> {
    const s = this.#held.take(this.#o.maxPerMinute);
    const line = summaryLine(s);
    const body = this.#o.target.kind === 'slack' ? slackSummaryBody(s) : webhookSummaryBody(s);
    const r = await this.#send(body, `the summary of ${s.count} held-back alerts`);
    if (r === 'stopped') return r;
    this.#o.log?.(`forward: ${line} — ${r === 'delivered' ? 'sent as one summary' : 'the summary was refused'}`);
    if (r === 'delivered') {
      this.stats.summaries++;
      this.stats.heldBack += s.count;
    } else this.stats.refused += s.count;
    await this.#settle(this.#heldItems.splice(0));
    // The next alert opens a new window.
    this.#window = null;
    return r;
  }

  /** One message, retried until the endpoint takes or refuses it, or the forwarder stops. */
  async #send(body: string, what: string): Promise<SendResult> {
    for (let attempt = 1; ; attempt++) {
      const r = await post(this.#o.target, body, this.#o.requestTimeoutMs);
      const now = Date.now();
      if (r.outcome === 'delivered') {
        if (this.#failingSince !== null) {
          this.#o.log?.(`forward: ${this.#where} is back after ${((now - this.#failingSince) / 1000).toFixed(1)} s (${this.#failures} failed attempts)`);
          this.#failingSince = null;
          this.#failures = 0;
        }
        return 'delivered';
      }
      if (r.outcome === 'refused') {
        this.#o.log?.(`forward: ${this.#where} refused ${what} (${r.reason}); not sent again`);
        // It answers, so it is not down: an outage is counted afresh.
        this.#failingSince = null;
        this.#failures = 0;
        return 'refused';
      }
      this.stats.retries++;
      this.#failures++;
      if (this.#failingSince === null) {
        this.#failingSince = now;
        this.#lastLogMs = now;
        this.#o.log?.(`forward: ${this.#where} unavailable (${r.reason}); retrying ${what} with backoff`);
      } else if (now - this.#lastLogMs >= LOG_EVERY_MS) {
        this.#lastLogMs = now;
        this.#o.log?.(`forward: ${this.#where} still unavailable after ${((now - this.#failingSince) / 1000).toFixed(0)} s (${r.reason}); retrying`);
      }
      const maxOutage = this.#o.maxOutageMs;
      if (maxOutage !== undefined && now - this.#failingSince >= maxOutage) {
        throw new TickflowError(
          'forward_failed',
          `${this.#o.name}: ${this.#where} has failed for ${((now - this.#failingSince) / 1000).toFixed(0)} s (${r.reason}), over --max-outage; what it did not take is kept and goes out on the next start`,
        );
      }
      if (this.#stop.signal.aborted) return 'stopped';
      const delay = r.retryAfterMs ?? backoffDelay(attempt, this.#o.backoff);
      try {
        await sleep(delay, undefined, { signal: this.#stop.signal });
      } catch {
        return 'stopped';
      }
    }
  }

  async #settle(items: ForwardItem<P>[]): Promise<void> {
    if (items.length === 0 || this.#o.onSettled === undefined) return;
    try {
      await this.#o.onSettled(items);
    } catch (e) {
      this.#o.log?.(`forward: storing the position failed (${(e as Error).message}); it is stored with the next message`);
    }
  }

  #sleepUntilPoked(timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => this.#poke(), Math.max(0, timeoutMs));
      this.#wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #poke(): void {
    const wake = this.#wakeUp;
    this.#wakeUp = null;
    wake?.();
  }
}
