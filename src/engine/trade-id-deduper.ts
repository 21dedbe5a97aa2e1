/**
 * First trade_id wins. Ids are remembered for at least `horizonMs` of event time (watermark
 * progress) after they were seen: an older replay is late anyway (excluded from candles and
 * baselines) and its row and alert are absorbed by the database's keys, so memory stays bounded
 * on endless streams.
 *
 * Two generations instead of per-id expiry: each generation spans `horizonMs` of watermark; when
 * it is full the older one is dropped whole. Deleting ids one by one from a large Set cost as
 * much as parsing the JSON; this keeps only adds and lookups, and holds at most 2 × horizon of ids.
 */
export class TradeIdDeduper {
  #current = new Set<string>();
  #previous = new Set<string>();
  #generationStart = Number.NEGATIVE_INFINITY;
  readonly #horizonMs: number;

  constructor(horizonMs: number) {
    this.#horizonMs = horizonMs;
  }

  /** true if the id is new (and now remembered). */
  admit(tradeId: string): boolean {
    if (this.#current.has(tradeId) || this.#previous.has(tradeId)) return false;
    this.#current.add(tradeId);
    return true;
  }

  /** The watermark moved: start a new generation once the current one spans the horizon. */
  advance(watermarkMs: number): void {
    if (this.#generationStart === Number.NEGATIVE_INFINITY) {
      if (Number.isFinite(watermarkMs)) this.#generationStart = watermarkMs;
      return;
    }
    if (watermarkMs - this.#generationStart < this.#horizonMs) return;
    this.#previous = this.#current;
    this.#current = new Set();
    this.#generationStart = watermarkMs;
  }

  get size(): number {
    return this.#current.size + this.#previous.size;
  }
}
