/**
 * Event-time progress: the watermark is the newest event time seen minus the out-of-orderness
 * bound. A trade below the watermark when it arrives is late; one exactly at it is on time
 * (docs/architecture.md#watermark-and-lateness).
 */
export class Watermark {
  #maxTs = Number.NEGATIVE_INFINITY;
  readonly #outOfOrdernessMs: number;
  current = Number.NEGATIVE_INFINITY;

  constructor(outOfOrdernessMs: number) {
    this.#outOfOrdernessMs = outOfOrdernessMs;
  }

  /** Returns true when the watermark moved. */
  observe(tsMs: number): boolean {
    if (tsMs <= this.#maxTs) return false;
    this.#maxTs = tsMs;
    this.current = tsMs - this.#outOfOrdernessMs;
    return true;
  }

  /** End of a finite input: everything still pending becomes final. */
  finish(): void {
    this.current = Number.POSITIVE_INFINITY;
  }

  get maxEventTime(): number {
    return this.#maxTs;
  }
}
