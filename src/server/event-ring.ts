/** A fixed-capacity ring of the most recent items, oldest first on read. */
export class EventRing<T> {
  readonly #items: (T | undefined)[];
  #start = 0;
  #size = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    this.#items = new Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  push(item: T): void {
    const cap = this.#items.length;
    if (this.#size < cap) {
      this.#items[(this.#start + this.#size) % cap] = item;
      this.#size++;
    } else {
      this.#items[this.#start] = item;
      this.#start = (this.#start + 1) % cap;
    }
  }

  oldest(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[this.#start];
  }

  /** Items for which `keep` is true, oldest first. */
  filter(keep: (item: T) => boolean): T[] {
    const out: T[] = [];
    const cap = this.#items.length;
    for (let i = 0; i < this.#size; i++) {
      const item = this.#items[(this.#start + i) % cap] as T;
      if (keep(item)) out.push(item);
    }
    return out;
  }
}
