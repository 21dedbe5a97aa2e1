import { hashTradeId, TradeIdSet } from './trade-id-set.ts';

/** Generations per horizon: an id is held for at most 1 + 1/GENERATIONS horizons. */
export const DEDUPE_GENERATIONS = 8;
/**
 * Ring bytes reserved per expected id: a length byte and 15 characters, the simulator's longest.
 * Only what ids reach becomes resident, so reserving more than is used costs address space only.
 */
const RESERVED_BYTES_PER_ID = 16;

/**
 * First trade_id wins. Ids are remembered for at least `horizonMs` of event time (watermark
 * progress) after they were seen: an older replay is late anyway (excluded from candles and
 * baselines) and its row and alert are absorbed by the database's keys, so memory stays bounded
 * on endless streams.
 *
 * Generations instead of per-id expiry: each spans an eighth of the horizon of watermark; when
 * a new one starts, the oldest is dropped if the eight before the new one are complete. So an
 * id is held for at least one horizon and at most 9/8 of one, and expiry needs no timestamp per
 * id (trade-id-set.ts drops a generation as one run of its ring).
 */
export class TradeIdDeduper {
  readonly #ids: TradeIdSet;
  #generationStart = Number.NEGATIVE_INFINITY;
  readonly #stepMs: number;

  /**
   * `idsWithin(ms)`, when the source can tell (the simulator), bounds the records in `ms` of
   * event time: the window is sized for the most it can hold, once, at the start.
   */
  constructor(horizonMs: number, idsWithin?: (eventMs: number) => number) {
    this.#stepMs = horizonMs / DEDUPE_GENERATIONS;
    const held = idsWithin?.(horizonMs + this.#stepMs);
    this.#ids = held === undefined ? new TradeIdSet() : TradeIdSet.sizedFor(held, RESERVED_BYTES_PER_ID);
  }

  /** true if the id is new (and now remembered). `idHash`: hashTradeId(tradeId), when the caller has it. */
  admit(tradeId: string, idHash = hashTradeId(tradeId)): boolean {
    return this.#ids.add(tradeId, idHash);
  }

  /** See TradeIdSet#prefetch: the first `n` of `idHashes` are about to be admitted. */
  prefetch(idHashes: Int32Array, n: number): void {
    this.#ids.prefetch(idHashes, n);
  }

  /** The watermark moved: start a new generation once the current one spans a step. */
  advance(watermarkMs: number): void {
    if (this.#generationStart === Number.NEGATIVE_INFINITY) {
      if (Number.isFinite(watermarkMs)) this.#generationStart = watermarkMs;
      return;
    }
    if (watermarkMs - this.#generationStart < this.#stepMs) return;
    this.#ids.startGeneration();
    if (this.#ids.generations > DEDUPE_GENERATIONS + 1) this.#ids.dropOldest();
    this.#generationStart = watermarkMs;
  }

  get size(): number {
    return this.#ids.size;
  }

  /** Bytes held by the window's table and ring. */
  get bytes(): number {
    return this.#ids.bytes;
  }
}
