/**
 * First trade_id wins. Ids are remembered while their event time is within `horizonMs` of the
 * watermark: an older replay is late anyway (excluded from candles and baselines) and its row
 * and alert are absorbed by the database's keys, so memory stays bounded on endless streams.
 */
export class TradeIdDeduper {
  readonly #seen = new Set<string>();
  #queueIds: string[] = [];
  #queueTs: number[] = [];
  #head = 0;
  readonly #horizonMs: number;

  constructor(horizonMs: number) {
    this.#horizonMs = horizonMs;
  }

  /** true if the id is new (and now remembered). */
  admit(tradeId: string, tsMs: number): boolean {
    if (this.#seen.has(tradeId)) return false;
    this.#seen.add(tradeId);
    this.#queueIds.push(tradeId);
    this.#queueTs.push(tsMs);
    return true;
  }

  evictBefore(watermarkMs: number): void {
    const cutoff = watermarkMs - this.#horizonMs;
    const ids = this.#queueIds;
    const ts = this.#queueTs;
    let h = this.#head;
    while (h < ids.length && ts[h]! < cutoff) {
      this.#seen.delete(ids[h]!);
      h++;
    }
    this.#head = h;
    if (h > 65_536 && h * 2 > ids.length) {
      this.#queueIds = ids.slice(h);
      this.#queueTs = ts.slice(h);
      this.#head = 0;
    }
  }

  get size(): number {
    return this.#seen.size;
  }
}
