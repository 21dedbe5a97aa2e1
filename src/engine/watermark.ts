/**
 * Event-time progress over input partitions, as Flink's sources keep it
 * (docs/architecture.md#watermark-and-lateness):
 *
 * - a partition's watermark is the newest event time seen on it minus the out-of-orderness bound;
 * - the engine's watermark is the smallest over the active partitions, and never goes back
 *   (except when a checkpointed partition is restored: see restorePartition);
 * - a partition without a record for `idleTimeoutMs` of wall-clock time is idle and does not
 *   hold it back; its next record makes it active again;
 * - when every partition is idle, event time advances with the wall clock from the newest event
 *   time seen, from the moment the last partition went idle — never straight to "now", so a
 *   replay of old trades is not closed early.
 *
 * Arrivals are noted per record (one array compare); the wall clock is read only by tick(), the
 * caller's timer, so a partition's last arrival is known to the tick — idleness is judged up to
 * one tick interval late, never early.
 */
const UNKNOWN = 0;
/** Active, and a record arrived since the last tick. */
const SEEN = 1;
/** Active, nothing since the last tick. */
const QUIET = 2;
const IDLE = 3;

export class Watermark {
  /** The engine's watermark: a trade below it on arrival is late. */
  current = Number.NEGATIVE_INFINITY;
  readonly #outOfOrdernessMs: number;
  /** 0: partitions never go idle. */
  readonly #idleTimeoutMs: number;
  readonly #status: number[] = [];
  readonly #maxTs: number[] = [];
  /** The partition's watermark: max(newest event time − bound, floor). */
  readonly #wm: number[] = [];
  /**
   * Below this a partition's trades are late whatever the engine's watermark: its tickers'
   * windows were closed up to it before a restore pulled the engine's watermark back.
   */
  readonly #floor: number[] = [];
  readonly #lastArrival: number[] = [];
  #hasFloors = false;
  /** The active partition with the smallest watermark (-1: none). */
  #lowest = -1;
  #active = 0;
  #maxAll = Number.NEGATIVE_INFINITY;

  constructor(outOfOrdernessMs: number, idleTimeoutMs = 0) {
    this.#outOfOrdernessMs = outOfOrdernessMs;
    this.#idleTimeoutMs = idleTimeoutMs;
  }

  /** A record (any record, a rejected one too) arrived on partition p. */
  arrive(p: number, now: () => number): void {
    if (this.#status[p] !== SEEN) this.#arriveSlow(p, now);
  }

  #arriveSlow(p: number, now: () => number): void {
    const s = this.#status[p];
    if (s === QUIET) {
      this.#status[p] = SEEN;
      return;
    }
    if (s === undefined || s === UNKNOWN) this.#register(p, now());
    else this.#lastArrival[p] = now();
    this.#status[p] = SEEN;
    this.#active++;
    this.#findLowest();
  }

  #register(p: number, now: number): void {
    this.#maxTs[p] = Number.NEGATIVE_INFINITY;
    this.#wm[p] = Number.NEGATIVE_INFINITY;
    this.#floor[p] ??= Number.NEGATIVE_INFINITY;
    this.#lastArrival[p] = now;
  }

  /** Partition p holds the engine's watermark back from now on (a partition just assigned). */
  addPartition(p: number, now: number): void {
    const s = this.#status[p];
    if (s === SEEN || s === QUIET) return;
    if (s === undefined || s === UNKNOWN) this.#register(p, now);
    else this.#lastArrival[p] = now;
    this.#status[p] = QUIET;
    this.#active++;
    this.#findLowest();
  }

  /**
   * These active partitions are not silent, whether or not a record reached the engine: the
   * source still holds records of theirs, or the pipeline is not pulling (a slow sink).
   */
  keepAlive(partitions: Iterable<number> | 'all'): void {
    const status = this.#status;
    if (partitions === 'all') {
      for (let p = 0; p < status.length; p++) if (status[p] === QUIET) status[p] = SEEN;
    } else {
      for (const p of partitions) if (status[p] === QUIET) status[p] = SEEN;
    }
  }

  /** Partition p is no longer read here: it stops holding the watermark back. */
  removePartition(p: number): boolean {
    const s = this.#status[p];
    if (s === undefined || s === UNKNOWN) return false;
    if (s !== IDLE) this.#active--;
    this.#status[p] = UNKNOWN;
    this.#maxTs[p] = Number.NEGATIVE_INFINITY;
    this.#wm[p] = Number.NEGATIVE_INFINITY;
    this.#floor[p] = Number.NEGATIVE_INFINITY;
    // The wall-clock advance starts from the newest event time of the partitions still read here.
    this.#maxAll = Number.NEGATIVE_INFINITY;
    for (let q = 0; q < this.#maxTs.length; q++) if (this.#maxTs[q]! > this.#maxAll) this.#maxAll = this.#maxTs[q]!;
    return this.#findLowest();
  }

  /**
   * Event time `tsMs` seen on partition p (after arrive). Returns true when the engine's
   * watermark moved.
   */
  observe(p: number, tsMs: number): boolean {
    if (!(tsMs > this.#maxTs[p]!)) return false;
    this.#maxTs[p] = tsMs;
    if (tsMs > this.#maxAll) this.#maxAll = tsMs;
    const w = tsMs - this.#outOfOrdernessMs;
    if (w <= this.#wm[p]!) return false;
    this.#wm[p] = w;
    // Only the partition holding the watermark back can move it.
    return p === this.#lowest && this.#findLowest();
  }

  /** The watermark partition p's trades are judged against. */
  lateBelow(p: number): number {
    const f = this.#hasFloors ? this.#floor[p]! : Number.NEGATIVE_INFINITY;
    return Math.max(f, this.current);
  }

  get hasFloors(): boolean {
    return this.#hasFloors;
  }

  /**
   * The wall clock moved: partitions silent for the idle timeout go idle, and once all are, the
   * watermark follows the wall clock. Returns true when the engine's watermark moved.
   */
  tick(now: number): boolean {
    const timeout = this.#idleTimeoutMs;
    if (timeout <= 0) return false;
    const status = this.#status;
    let changed = false;
    let lastArrival = Number.NEGATIVE_INFINITY;
    for (let p = 0; p < status.length; p++) {
      const s = status[p];
      if (s === undefined || s === UNKNOWN) continue;
      if (s === SEEN) {
        status[p] = QUIET;
        this.#lastArrival[p] = now;
      } else if (s === QUIET && now - this.#lastArrival[p]! >= timeout) {
        status[p] = IDLE;
        this.#active--;
        changed = true;
      }
      if (this.#lastArrival[p]! > lastArrival) lastArrival = this.#lastArrival[p]!;
    }
    let moved = changed && this.#findLowest();
    if (this.#active === 0 && lastArrival > Number.NEGATIVE_INFINITY && Number.isFinite(this.#maxAll)) {
      const idleSince = lastArrival + timeout;
      const w = this.#maxAll - this.#outOfOrdernessMs + (now - idleSince);
      if (w > this.current) {
        this.current = w;
        moved = true;
      }
    }
    return moved;
  }

  /**
   * A checkpointed partition taken over: its newest event time, and the engine's watermark when
   * the checkpoint was written (its tickers' windows were closed up to that, so its trades below
   * it stay late). The engine's watermark becomes the smallest over the active partitions, even
   * if that is lower — as a Flink job restarted from a checkpoint starts over — so the partition's
   * trades are judged against its own progress, not against this member's; the partitions
   * already here keep their windows closed by a floor at the old watermark.
   */
  restorePartition(p: number, maxEventTimeMs: number | null, watermarkMs: number, now: number): void {
    const before = this.current;
    if (Number.isFinite(before)) {
      for (let q = 0; q < this.#status.length; q++) {
        if (q !== p && this.#status[q] !== undefined && this.#status[q] !== UNKNOWN && this.#floor[q]! < before) {
          this.#floor[q] = before;
          if (this.#wm[q]! < before) this.#wm[q] = before;
        }
      }
    }
    this.addPartition(p, now);
    this.#lastArrival[p] = now;
    if (this.#floor[p]! < watermarkMs) this.#floor[p] = watermarkMs;
    const max = maxEventTimeMs ?? Number.NEGATIVE_INFINITY;
    if (max > this.#maxTs[p]!) this.#maxTs[p] = max;
    if (max > this.#maxAll) this.#maxAll = max;
    this.#wm[p] = Math.max(this.#wm[p]!, max - this.#outOfOrdernessMs, this.#floor[p]!);
    this.#hasFloors = true;
    this.current = Number.NEGATIVE_INFINITY;
    this.#findLowest();
  }

  /**
   * Recomputes the lowest active partition and raises the engine's watermark to its watermark.
   * Returns true when the engine's watermark moved.
   */
  #findLowest(): boolean {
    let lowest = -1;
    let min = Number.POSITIVE_INFINITY;
    const status = this.#status;
    for (let p = 0; p < status.length; p++) {
      const s = status[p];
      if (s !== SEEN && s !== QUIET) continue;
      const w = this.#wm[p]!;
      if (lowest === -1 || w < min) {
        lowest = p;
        min = w;
      }
    }
    this.#lowest = lowest;
    if (lowest !== -1 && min > this.current) {
      this.current = min;
      return true;
    }
    return false;
  }

  /** End of a finite input: everything still pending becomes final. */
  finish(): void {
    this.current = Number.POSITIVE_INFINITY;
  }

  /** Newest event time seen on any partition. */
  get maxEventTime(): number {
    return this.#maxAll;
  }

  /** Newest event time seen on partition p (-∞ for none). */
  maxEventTimeOf(p: number): number {
    return this.#maxTs[p] ?? Number.NEGATIVE_INFINITY;
  }

  /** Partitions this watermark knows of (assigned or seen). */
  partitions(): number[] {
    const out: number[] = [];
    for (let p = 0; p < this.#status.length; p++) if (this.#status[p] !== undefined && this.#status[p] !== UNKNOWN) out.push(p);
    return out;
  }
}
