import type { Trade } from '../trade/trade.ts';

/**
 * Trades waiting for the watermark, released in event-time order (ties in arrival order), the
 * order in which Flink's OVER window sees them.
 *
 * Most trades arrive in event-time order, so they go to a plain FIFO run (append, take from the
 * front: no sifting); only a trade older than the run's newest goes to a binary min-heap. Release
 * takes the smaller head of the two by (event time, arrival), which is one total order.
 */
export class EventTimeQueue {
  // The in-order run, a ring (#head, #runSize): non-decreasing time, increasing arrival.
  #runTs = new Float64Array(1024);
  #runSeq = new Float64Array(1024);
  #runTrades: (Trade | undefined)[] = new Array<Trade | undefined>(1024).fill(undefined);
  #head = 0;
  #runSize = 0;
  // The out-of-order trades, a heap on (time, arrival).
  #ts: number[] = [];
  #seq: number[] = [];
  #trades: Trade[] = [];
  #nextSeq = 0;
  /**
   * With `trackArrival`: trade ids waiting per (ticker, event time), in arrival order — the one
   * thing about the queue a checkpoint cannot read back from stock_trades.
   */
  readonly #byTickerTime: Map<string, Map<number, string | string[]>> | null;

  constructor(o: { trackArrival?: boolean } = {}) {
    this.#byTickerTime = o.trackArrival ? new Map() : null;
  }

  push(t: Trade): void {
    const groups = this.#byTickerTime;
    if (groups !== null) {
      // Nested maps, and a lone id kept as itself: no key string or array per trade (building
      // one made the engine a third slower on dense streams).
      let byTime = groups.get(t.ticker);
      if (byTime === undefined) {
        byTime = new Map();
        groups.set(t.ticker, byTime);
      }
      const g = byTime.get(t.tsMs);
      if (g === undefined) byTime.set(t.tsMs, t.tradeId);
      else if (typeof g === 'string') byTime.set(t.tsMs, [g, t.tradeId]);
      else g.push(t.tradeId);
    }
    const s = this.#nextSeq++;
    const size = this.#runSize;
    if (size === 0 || t.tsMs >= this.#runTs[(this.#head + size - 1) & (this.#runTs.length - 1)]!) {
      if (size === this.#runTs.length) this.#growRun();
      const at = (this.#head + size) & (this.#runTs.length - 1);
      this.#runTs[at] = t.tsMs;
      this.#runSeq[at] = s;
      this.#runTrades[at] = t;
      this.#runSize = size + 1;
      return;
    }
    const ts = this.#ts;
    const seq = this.#seq;
    const trades = this.#trades;
    let i = ts.length;
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
    const groups = this.#byTickerTime;
    const runTs = this.#runTs;
    const mask = runTs.length - 1;
    for (;;) {
      const h = this.#head;
      const fromHeap = this.#ts.length > 0;
      let t: Trade;
      if (this.#runSize > 0 && (!fromHeap || runTs[h]! < this.#ts[0]! || (runTs[h] === this.#ts[0] && this.#runSeq[h]! < this.#seq[0]!))) {
        if (runTs[h]! > watermarkMs) break;
        t = this.#runTrades[h]!;
        this.#runTrades[h] = undefined;
        this.#head = (h + 1) & mask;
        this.#runSize--;
      } else if (fromHeap) {
        if (this.#ts[0]! > watermarkMs) break;
        t = this.#pop();
      } else {
        break;
      }
      if (groups !== null) {
        // Ties leave in arrival order, so the released trade is its group's first.
        const byTime = groups.get(t.ticker)!;
        const g = byTime.get(t.tsMs)!;
        if (typeof g === 'string') byTime.delete(t.tsMs);
        else if (g.length === 2) byTime.set(t.tsMs, g[1]!);
        else g.shift();
      }
      release(t);
    }
  }

  #growRun(): void {
    this.#setRun(this.#runEntries(), this.#runTs.length * 2);
  }

  #runEntries(): { ts: number; seq: number; t: Trade }[] {
    const out: { ts: number; seq: number; t: Trade }[] = [];
    const mask = this.#runTs.length - 1;
    for (let k = 0; k < this.#runSize; k++) {
      const at = (this.#head + k) & mask;
      out.push({ ts: this.#runTs[at]!, seq: this.#runSeq[at]!, t: this.#runTrades[at]! });
    }
    return out;
  }

  /** Entries sorted by (time, arrival) become the run. */
  #setRun(entries: { ts: number; seq: number; t: Trade }[], minCapacity = 1024): void {
    let capacity = minCapacity;
    while (capacity < entries.length) capacity *= 2;
    this.#runTs = new Float64Array(capacity);
    this.#runSeq = new Float64Array(capacity);
    this.#runTrades = new Array<Trade | undefined>(capacity).fill(undefined);
    entries.forEach((e, i) => {
      this.#runTs[i] = e.ts;
      this.#runSeq[i] = e.seq;
      this.#runTrades[i] = e.t;
    });
    this.#head = 0;
    this.#runSize = entries.length;
  }

  /** Per ticker: how many trades wait, and the arrival order of those sharing an event time (needs trackArrival). */
  exportTo(state: (ticker: string) => { pending: number; ties: string[][] }): void {
    if (this.#byTickerTime === null) throw new Error('EventTimeQueue: exportTo needs trackArrival');
    for (const [ticker, byTime] of this.#byTickerTime) {
      if (byTime.size === 0) continue;
      const s = state(ticker);
      for (const ids of byTime.values()) {
        if (typeof ids === 'string') s.pending++;
        else {
          s.pending += ids.length;
          s.ties.push([...ids]);
        }
      }
    }
  }

  /** Drop these tickers' waiting trades (their partition moved to another consumer). */
  forget(tickers: ReadonlySet<string>): void {
    const kept: { ts: number; seq: number; t: Trade }[] = [];
    for (let i = 0; i < this.#ts.length; i++) {
      const t = this.#trades[i]!;
      if (!tickers.has(t.ticker)) kept.push({ ts: this.#ts[i]!, seq: this.#seq[i]!, t });
    }
    for (const e of this.#runEntries()) if (!tickers.has(e.t.ticker)) kept.push(e);
    // What is left, sorted, is one in-order run.
    kept.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
    this.#setRun(kept);
    this.#ts = [];
    this.#seq = [];
    this.#trades = [];
    const groups = this.#byTickerTime;
    if (groups !== null) for (const t of tickers) groups.delete(t);
  }

  get size(): number {
    return this.#ts.length + this.#runSize;
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
