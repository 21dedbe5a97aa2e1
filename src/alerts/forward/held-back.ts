import type { AlertJson } from '../../kafka/alert-json.ts';
import type { HeldBackSummary } from './format.ts';

/**
 * What the rate limit kept back in the current window: counts per kind and ticker and the ids
 * (bounded), for the summary that goes out when the window ends.
 */
export class HeldBack {
  #count = 0;
  #dropped = 0;
  #fromMs = 0;
  #toMs = 0;
  readonly #groups = new Map<string, { kind: string; ticker: string; count: number }>();
  readonly #ids: string[] = [];
  readonly #maxIds: number;

  constructor(maxIds: number) {
    this.#maxIds = maxIds;
  }

  get count(): number {
    return this.#count;
  }

  add(a: AlertJson, nowMs: number, o: { dropped?: boolean } = {}): void {
    if (this.#count === 0) this.#fromMs = nowMs;
    this.#toMs = nowMs;
    this.#count++;
    if (o.dropped === true) this.#dropped++;
    const kind = String(a.kind);
    const key = `${kind}\u0000${a.ticker}`;
    const g = this.#groups.get(key);
    if (g === undefined) this.#groups.set(key, { kind, ticker: a.ticker, count: 1 });
    else g.count++;
    if (this.#ids.length < this.#maxIds) this.#ids.push(a.alert_id);
  }

  /** The summary of everything held so far, and a fresh start. */
  take(limitPerMinute: number): HeldBackSummary {
    const s: HeldBackSummary = {
      count: this.#count,
      dropped: this.#dropped,
      limitPerMinute,
      fromMs: this.#fromMs,
      toMs: this.#toMs,
      groups: [...this.#groups.values()].sort((x, y) => y.count - x.count || x.kind.localeCompare(y.kind) || x.ticker.localeCompare(y.ticker)),
      ids: [...this.#ids],
    };
    this.#count = 0;
    this.#dropped = 0;
    this.#groups.clear();
    this.#ids.length = 0;
    return s;
  }
}
