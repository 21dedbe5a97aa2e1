/**
 * A bounded set of recently seen alert ids: an insertion-ordered Map used as a FIFO. Engines
 * publish alerts at least once, so a replay of an `alert_id` arrives close behind the original;
 * a bounded memory keeps the consumer's footprint flat however long it runs.
 */
export class RecentIds {
  readonly #ids = new Map<string, true>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** True when the id is new (and remembers it). */
  add(id: string): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.set(id, true);
    if (this.#ids.size > this.#max) this.#ids.delete(this.#ids.keys().next().value!);
    return true;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  get size(): number {
    return this.#ids.size;
  }
}
