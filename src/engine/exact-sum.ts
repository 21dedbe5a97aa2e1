/**
 * Σ price·volume for VWAP, exact. Stays a plain number while the total is a safe integer (the
 * common case, and fast), and moves to BigInt only when a sum could lose precision.
 */
export class ExactSum {
  #small = 0;
  #big: bigint | null = null;

  addProduct(a: number, b: number): void {
    if (this.#big === null) {
      const p = a * b;
      const s = this.#small + p;
      if (Number.isSafeInteger(p) && Number.isSafeInteger(s)) {
        this.#small = s;
        return;
      }
      this.#big = BigInt(this.#small);
    }
    this.#big += BigInt(a) * BigInt(b);
  }

  toBigInt(): bigint {
    return this.#big ?? BigInt(this.#small);
  }

  /** A sum restored from a checkpoint. */
  static of(total: bigint): ExactSum {
    const s = new ExactSum();
    if (total <= BigInt(Number.MAX_SAFE_INTEGER) && total >= BigInt(Number.MIN_SAFE_INTEGER)) s.#small = Number(total);
    else s.#big = total;
    return s;
  }
}
