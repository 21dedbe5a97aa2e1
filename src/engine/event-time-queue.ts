import type { Trade } from '../trade/trade.ts';

/**
 * Trades waiting for the watermark, released in event-time order (ties in arrival order), the
 * order in which Flink's OVER window sees them. A binary min-heap: in-order input pushes in O(1).
 */
export class EventTimeQueue {
  #ts: number[] = [];
  #seq: number[] = [];
  #trades: Trade[] = [];
  #nextSeq = 0;

  push(t: Trade): void {
    const ts = this.#ts;
    const seq = this.#seq;
    const trades = this.#trades;
    let i = ts.length;
    const s = this.#nextSeq++;
    ts.push(t.tsMs);
    seq.push(s);
    trades.push(t);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (ts[p]! < t.tsMs || (ts[p] === t.tsMs && seq[p]! < s)) break;
      ts[i] = ts[p]!;
      seq[i] = seq[p]!;
      trades[i] = trades[p]!;
      i = p;
    }
    ts[i] = t.tsMs;
    seq[i] = s;
    trades[i] = t;
  }

  /** Hand every trade with event time ≤ watermark to `release`, oldest first. */
  releaseUpTo(watermarkMs: number, release: (t: Trade) => void): void {
    while (this.#ts.length > 0 && this.#ts[0]! <= watermarkMs) release(this.#pop());
  }

  get size(): number {
    return this.#ts.length;
  }

  #pop(): Trade {
    const ts = this.#ts;
    const seq = this.#seq;
    const trades = this.#trades;
    const top = trades[0]!;
    const lastTs = ts.pop()!;
    const lastSeq = seq.pop()!;
    const lastTrade = trades.pop()!;
    const n = ts.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && (ts[r]! < ts[l]! || (ts[r] === ts[l] && seq[r]! < seq[l]!))) c = r;
      if (ts[c]! > lastTs || (ts[c] === lastTs && seq[c]! > lastSeq)) break;
      ts[i] = ts[c]!;
      seq[i] = seq[c]!;
      trades[i] = trades[c]!;
      i = c;
    }
    ts[i] = lastTs;
    seq[i] = lastSeq;
    trades[i] = lastTrade;
    return top;
  }
}
