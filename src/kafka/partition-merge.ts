/**
 * Aligns partitions by record time before they reach the engine.
 *
 * The engine keeps a watermark per partition (as Flink does), so the order across partitions
 * does not decide lateness; it decides how long trades wait for the watermark. A consumer
 * catching up fetches a chunk per partition, and feeding partition 0's chunk before partition
 * 1's would hold partition 0's trades (and their candles) in the engine until partition 1
 * catches up. Handing records over in time order across partitions (a k-way merge on the
 * trade's event time, each partition's own order kept) keeps that wait and the engine's state
 * small. A record without a time of its own (not a valid trade or heartbeat) takes its
 * partition's last one: it neither holds the partition back nor jumps ahead. A partition with
 * nothing buffered holds the merge back until the caller's `mayPass(lane, emptyForMs)` lets it
 * go on — in practice: caught up with its end offset and quiet for a moment, or empty for half
 * the spec's idle timeout.
 */
export interface MergeItem<T> {
  readonly timestamp: number;
  readonly item: T;
}

interface Lane<T> {
  items: MergeItem<T>[];
  head: number;
  /** When the lane last ran dry (performance.now()), or null while it has items. */
  emptySince: number | null;
  /** The time of the lane's last record that had one. */
  last: number;
}

export class PartitionMerge<T> {
  readonly #lanes = new Map<number, Lane<T>>();
  #size = 0;
  #blocked = false;

  get size(): number {
    return this.#size;
  }

  /** Whether the last take stopped for an empty lane (its source must keep fetching). */
  get blocked(): boolean {
    return this.#blocked;
  }

  /** Items buffered for a lane. */
  buffered(lane: number): number {
    const l = this.#lanes.get(lane);
    return l === undefined ? 0 : l.items.length - l.head;
  }

  /** A lane that exists before its first item holds the merge back like a dry one. */
  ensureLane(lane: number, now: number): void {
    if (!this.#lanes.has(lane)) this.#lanes.set(lane, { items: [], head: 0, emptySince: now, last: Number.NEGATIVE_INFINITY });
  }

  /** `timestamp` null: the item has no time of its own and goes at its lane's last one. */
  push(lane: number, timestamp: number | null, item: T): void {
    let l = this.#lanes.get(lane);
    if (l === undefined) {
      l = { items: [], head: 0, emptySince: null, last: Number.NEGATIVE_INFINITY };
      this.#lanes.set(lane, l);
    }
    if (timestamp !== null) l.last = timestamp;
    l.items.push({ timestamp: l.last, item });
    l.emptySince = null;
    this.#size++;
  }

  /** The lanes we read from now; buffered items of other lanes are dropped (revoked partitions). */
  retain(lanes: ReadonlySet<number>): void {
    for (const [k, l] of this.#lanes) {
      if (!lanes.has(k)) {
        this.#size -= l.items.length - l.head;
        this.#lanes.delete(k);
      }
    }
  }

  /**
   * Up to `max` items in time order; stops early while a lane that may still deliver older
   * items is empty and `mayPass` does not yet let the merge go on without it.
   */
  take(max: number, now: number, mayPass: (lane: number, emptyForMs: number) => boolean): T[] {
    const out: T[] = [];
    const lanes = [...this.#lanes];
    this.#blocked = false;
    while (out.length < max) {
      let best: Lane<T> | null = null;
      let blocked = false;
      for (const [name, l] of lanes) {
        if (l.head >= l.items.length) {
          l.emptySince ??= now;
          if (!mayPass(name, now - l.emptySince)) blocked = true;
          continue;
        }
        if (best === null || l.items[l.head]!.timestamp < best.items[best.head]!.timestamp) best = l;
      }
      this.#blocked = blocked;
      if (best === null || blocked) break;
      out.push(best.items[best.head]!.item);
      best.head++;
      this.#size--;
      if (best.head === best.items.length) {
        best.items = [];
        best.head = 0;
        best.emptySince = now;
      } else if (best.head > 4096) {
        best.items = best.items.slice(best.head);
        best.head = 0;
      }
    }
    return out;
  }
}
