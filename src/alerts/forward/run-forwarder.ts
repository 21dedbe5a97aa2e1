import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EngineOutput } from '../../engine/records.ts';
import { alertToJson, type AlertJson } from '../../kafka/alert-json.ts';
import type { RunParticipant } from '../../pipeline/participant.ts';
import type { SqlStatement, Store } from '../../store/store.ts';
import { TickflowError } from '../../tickflow-error.ts';
import { type ForwardItem, Forwarder, type ForwardStats } from './forwarder.ts';
import { describeTarget, type Target } from './target.ts';

export interface RunForwardOptions {
  readonly target: Target;
  readonly maxPerMinute: number;
  readonly maxOutageMs?: number | undefined;
  readonly log: (line: string) => void;
  /** Told once when the endpoint failed for longer than maxOutageMs: the run should stop. */
  readonly onFailed: (e: unknown) => void;
  /** Alerts held in memory at most; the rest wait in the database. */
  readonly capacity?: number;
}

/** What `run --json` reports of forwarding. */
export interface RunForwardSummary {
  readonly target: string;
  readonly delivered: number;
  readonly held_back: number;
  readonly summaries: number;
  readonly refused: number;
  readonly retries: number;
  /** Stored alerts this destination has not taken yet: the next run with the same target sends them first. */
  readonly undelivered: number;
}

const claimScope = (key: string): string => `tickflow-forward:${key}`;
/** Alerts the Forwarder holds in memory by default; the rest wait in the database. */
const CAPACITY = 1_000;
/** Rows read from the database at once at most. */
const READ_ROWS = 500;

const QUEUE_SQL = `
INSERT INTO tickflow_forwarding (destination, alert_id, alert)
SELECT $1, a.alert_id, a.alert FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS a(alert_id, alert, n)
ORDER BY a.n
ON CONFLICT (destination, alert_id) DO NOTHING`;

const PENDING_SQL = `
SELECT f.seq::text AS position, f.alert FROM tickflow_forwarding f
WHERE f.destination = $1 AND f.settled_at IS NULL AND f.seq > $2::bigint
ORDER BY f.seq LIMIT $3`;

const SETTLE_SQL = `
UPDATE tickflow_forwarding SET settled_at = now(), alert = NULL
WHERE destination = $1 AND alert_id = ANY($2::text[]) AND settled_at IS NULL`;

const COUNT_PENDING_SQL = 'SELECT count(*)::int AS n FROM tickflow_forwarding WHERE destination = $1 AND settled_at IS NULL';

/** The destination's key in the database: a Slack URL is a secret, so only its hash is stored. */
export function destinationKey(t: Target): string {
  return createHash('sha256').update(`${t.kind}:${t.url.href}`).digest('hex');
}

/**
 * `tickflow run --forward`: the alerts an embedded run stores go to one endpoint, without Kafka.
 *
 * Each alert is queued in table tickflow_forwarding by the transaction that stores it (a
 * statement of that batch's commit), so no alert is stored without being queued, whatever
 * kills the process. A reader feeds the queued rows, in commit order, to a Forwarder — which
 * delivers in the background with retries and the rate limit — only as far as its queue has
 * room: a dead endpoint leaves the backlog in the database, not in memory, and the pipeline
 * never waits for an endpoint. A row is marked settled once the endpoint took its alert (before
 * the next message goes out), so a restart sends what was stored but not taken — at most the
 * message in flight at a kill -9 goes out twice — and a settled alert_id is never queued for
 * that destination again.
 */
export class RunForwarder implements RunParticipant, AsyncDisposable {
  readonly #store: Store;
  readonly #o: RunForwardOptions;
  readonly #key: string;
  readonly #forwarder: Forwarder<string>;
  readonly #where: string;
  /** The last seq handed to the Forwarder: rows are queued in commit order, so later ones come after it. */
  #cursor = '0';
  /** Whether rows past the cursor may exist. */
  #more = true;
  /** A read is under way: what it finds is not offered yet. */
  #reading = false;
  #stopped = false;
  readonly #stopping = new AbortController();
  #wake: (() => void) | null = null;
  #caughtUp: (() => void)[] = [];
  /** Settled alert ids whose update failed (the database was away): retried with the next. */
  #unsaved: string[] = [];
  #claimed = false;
  readonly #refill: number;
  readonly #feeding: Promise<void>;
  /** Alerts from an earlier run, still to send when this one started. */
  readonly backlog: number;

  private constructor(store: Store, o: RunForwardOptions, key: string, backlog: number) {
    this.#store = store;
    this.#o = o;
    this.#key = key;
    this.backlog = backlog;
    this.#where = describeTarget(o.target);
    this.#refill = Math.max(1, Math.min(READ_ROWS, Math.floor((o.capacity ?? CAPACITY) / 4)));
    this.#forwarder = new Forwarder<string>({
      target: o.target,
      maxPerMinute: o.maxPerMinute,
      maxOutageMs: o.maxOutageMs,
      capacity: o.capacity ?? CAPACITY,
      name: 'run --forward',
      log: o.log,
      onSettled: (items) => this.#settle(items),
    });
    this.#forwarder.done.catch((e: unknown) => {
      this.#stop();
      o.onFailed(e);
    });
    this.#feeding = this.#feed();
  }

  /**
   * Takes the destination for this process (two processes feeding one endpoint from one
   * database would send each other's backlog) and starts sending what an earlier run left.
   */
  static async open(store: Store, o: RunForwardOptions): Promise<RunForwarder> {
    const key = destinationKey(o.target);
    if (store.claims !== null) {
      const free = await store.claims.claim(claimScope(key), 0, { wanted: () => false });
      if (!free)
        throw new TickflowError(
          'forward_in_use',
          `--forward: another tickflow run forwards to ${describeTarget(o.target)} from this database; one run per target, or \`tickflow alerts forward\` from the alerts topic`,
        );
    }
    try {
      const [row] = await store.query<{ n: number }>(COUNT_PENDING_SQL, [key]);
      const f = new RunForwarder(store, o, key, Number(row?.n ?? 0));
      f.#claimed = store.claims !== null;
      return f;
    } catch (e) {
      await store.claims?.release(claimScope(key), 0);
      throw e;
    }
  }

  get stats(): ForwardStats {
    return this.#forwarder.stats;
  }

  /** Queues the batch's alerts in its own transaction (run last, after the alerts' rows). */
  afterDrain(out: EngineOutput): () => Promise<readonly SqlStatement[]> {
    if (out.alerts.length === 0) return async () => [];
    const json = out.alerts.map((a) => JSON.stringify(alertToJson(a)));
    const statement: SqlStatement = { sql: QUEUE_SQL, params: [this.#key, out.alerts.map((a) => a.alertId), json] };
    return async () => [statement];
  }

  onCommitted(out: EngineOutput): void {
    if (out.alerts.length === 0) return;
    this.#more = true;
    this.#poke();
  }

  /**
   * The end of a finite run: keeps sending for up to `ms` (a summary held back by the rate
   * limit goes out at once), then stops after the message in flight. `ms` 0: only that message.
   */
  async conclude(ms: number): Promise<RunForwardSummary> {
    const deadline = Date.now() + ms;
    if (ms > 0) {
      let timer: NodeJS.Timeout | undefined;
      const timeUp = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      });
      // Everything stored is in the Forwarder's hands first (the database may hold more than its queue).
      await Promise.race([this.#whenCaughtUp(), timeUp, this.#forwarder.done.catch(() => {})]);
      clearTimeout(timer);
    }
    this.#stop();
    await this.#forwarder.close({ drainMs: Math.max(0, deadline - Date.now()) }).catch(() => {});
    await this.#feeding;
    await this.#flushUnsaved();
    let undelivered = this.#forwarder.pending;
    try {
      const [row] = await this.#store.query<{ n: number }>(COUNT_PENDING_SQL, [this.#key]);
      undelivered = Number(row?.n ?? 0);
    } catch {
      // The database is away: what the Forwarder holds is the best count there is.
    }
    const s = this.#forwarder.stats;
    return {
      target: this.#where,
      delivered: s.delivered,
      held_back: s.heldBack,
      summaries: s.summaries,
      refused: s.refused,
      retries: s.retries,
      undelivered,
    };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#stop();
    await this.#forwarder.close().catch(() => {});
    await this.#feeding;
    await this.#flushUnsaved();
    if (this.#claimed) {
      this.#claimed = false;
      await this.#store.claims?.release(claimScope(this.#key), 0).catch(() => {});
    }
  }

  /** Reads queued rows into the Forwarder whenever there may be more and it has room. */
  async #feed(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      if (!this.#more) {
        for (const w of this.#caughtUp.splice(0)) w();
        await this.#sleep();
        continue;
      }
      // A full queue is refilled in reads of some size, not one query per delivered alert.
      if (this.#forwarder.space < this.#refill) {
        await this.#sleep(this.#forwarder.whenSpace(this.#refill));
        continue;
      }
      this.#more = false;
      const limit = Math.min(this.#forwarder.space, READ_ROWS);
      let rows: { position: string; alert: string }[];
      this.#reading = true;
      try {
        rows = await this.#store.query<{ position: string; alert: string }>(PENDING_SQL, [this.#key, this.#cursor, limit]);
        failures = 0;
      } catch (e) {
        this.#more = true;
        if (failures++ === 0) this.#o.log(`forward: reading the alerts to send failed (${(e as Error).message}); retrying — they stay queued in the database`);
        await sleep(Math.min(5_000, 250 * 2 ** failures), undefined, { signal: this.#stopping.signal }).catch(() => {});
        continue;
      } finally {
        this.#reading = false;
      }
      const items: ForwardItem<string>[] = rows.map((r) => {
        const alert = JSON.parse(r.alert) as AlertJson;
        return { alert, raw: r.alert, position: alert.alert_id };
      });
      if (rows.length > 0) this.#cursor = rows.at(-1)!.position;
      this.#forwarder.offer(items);
      if (rows.length === limit) this.#more = true;
    }
  }

  /** Marks delivered alerts settled; awaited by the Forwarder before its next message. */
  async #settle(items: readonly ForwardItem<string>[]): Promise<void> {
    const ids = [...this.#unsaved, ...items.flatMap((i) => (i.position === undefined ? [] : [i.position]))];
    if (ids.length === 0) return;
    try {
      await this.#store.query(SETTLE_SQL, [this.#key, ids]);
      this.#unsaved = [];
    } catch (e) {
      this.#unsaved = ids;
      throw e;
    }
  }

  async #flushUnsaved(): Promise<void> {
    if (this.#unsaved.length === 0) return;
    await this.#settle([]).catch((e: unknown) =>
      this.#o.log(`forward: could not mark ${this.#unsaved.length} delivered alert(s) as sent (${(e as Error).message}); the next run sends them again`),
    );
  }

  #whenCaughtUp(): Promise<void> {
    if ((!this.#more && !this.#reading) || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => this.#caughtUp.push(resolve));
  }

  #sleep(also?: Promise<void>): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      also?.then(() => this.#poke());
    });
  }

  #poke(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #stop(): void {
    this.#stopped = true;
    this.#stopping.abort();
    this.#poke();
    for (const w of this.#caughtUp.splice(0)) w();
  }
}
