import { hashTradeId, TradeIdSet } from './trade-id-set.ts';

/**
 * First trade_id wins. Ids are remembered for at least `horizonMs` of event time (watermark
 * progress) after they were seen: an older replay is late anyway (excluded from candles and
 * baselines) and its row and alert are absorbed by the database's keys, so memory stays bounded
 * on endless streams.
 *
 * Two generations instead of per-id expiry: each generation spans `horizonMs` of watermark; when
 * it is full the older one is dropped whole. Deleting ids one by one from a large Set cost as
 * much as parsing the JSON; this keeps only adds and lookups, and holds at most 2 × horizon of ids.
 * The dropped generation's buffers are emptied and reused, so a steady stream allocates nothing.
 */
export class TradeIdDeduper {
  #current = new TradeIdSet();
  #previous = new TradeIdSet();
  #generationStart = Number.NEGATIVE_INFINITY;
  readonly #horizonMs: number;

  constructor(horizonMs: number) {
    this.#horizonMs = horizonMs;
  }

  /** true if the id is new (and now remembered). */
  admit(tradeId: string): boolean {
    const h = hashTradeId(tradeId);
    return !this.#previous.has(tradeId, h) && this.#current.add(tradeId, h);
  }

  /** The watermark moved: start a new generation once the current one spans the horizon. */
  advance(watermarkMs: number): void {
    if (this.#generationStart === Number.NEGATIVE_INFINITY) {
      if (Number.isFinite(watermarkMs)) this.#generationStart = watermarkMs;
      return;
    }
    if (watermarkMs - this.#generationStart < this.#horizonMs) return;
    const dropped = this.#previous;
    dropped.clear();
    this.#previous = this.#current;
    this.#current = dropped;
    this.#generationStart = watermarkMs;
  }

  get size(): number {
    return this.#current.size + this.#previous.size;
  }
}
