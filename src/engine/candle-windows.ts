import { divideHalfUp } from '../trade/decimal.ts';
import type { Trade } from '../trade/trade.ts';
import { ExactSum } from './exact-sum.ts';
import type { CandleState } from './engine-state.ts';
import type { Candle } from './records.ts';

interface CandleAccumulator {
  openE4: number;
  highE4: number;
  lowE4: number;
  closeE4: number;
  volume: number;
  notionalE4: ExactSum;
  tradeCount: number;
}

/**
 * Tumbling event-time windows per ticker, aligned to the epoch. Open and close are the first
 * and last trade in arrival order (Flink's FIRST_VALUE/LAST_VALUE); a window is emitted once the
 * watermark reaches its end.
 */
export class CandleWindows {
  readonly #intervalMs: number;
  readonly #open = new Map<number, Map<string, CandleAccumulator>>();
  /** Window starts currently open, ascending; few at a time (≈ out-of-orderness / interval + 1). */
  readonly #starts: number[] = [];
  /**
   * The window the last trade went to: most trades go to the same one, and a Map lookup by a
   * time (a heap number key) cost a lookup and an allocation per trade.
   */
  #lastStart = Number.NaN;
  #last: Map<string, CandleAccumulator> | undefined;

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  windowStart(tsMs: number): number {
    return tsMs - (((tsMs % this.#intervalMs) + this.#intervalMs) % this.#intervalMs);
  }

  add(t: Trade): void {
    const start = this.windowStart(t.tsMs);
    let byTicker = start === this.#lastStart ? this.#last : this.#open.get(start);
    if (byTicker === undefined) {
      byTicker = new Map();
      this.#open.set(start, byTicker);
      this.#insertStart(start);
    }
    this.#lastStart = start;
    this.#last = byTicker;
    const acc = byTicker.get(t.ticker);
    if (acc === undefined) {
      const notionalE4 = new ExactSum();
      notionalE4.addProduct(t.priceE4, t.volume);
      byTicker.set(t.ticker, {
        openE4: t.priceE4,
        highE4: t.priceE4,
        lowE4: t.priceE4,
        closeE4: t.priceE4,
        volume: t.volume,
        notionalE4,
        tradeCount: 1,
      });
      return;
    }
    if (t.priceE4 > acc.highE4) acc.highE4 = t.priceE4;
    if (t.priceE4 < acc.lowE4) acc.lowE4 = t.priceE4;
    acc.closeE4 = t.priceE4;
    acc.volume += t.volume;
    acc.notionalE4.addProduct(t.priceE4, t.volume);
    acc.tradeCount++;
  }

  /** Emit every window whose end is at or below the watermark. */
  closeUpTo(watermarkMs: number, out: Candle[]): number {
    let emitted = 0;
    while (this.#starts.length > 0 && this.#starts[0]! + this.#intervalMs <= watermarkMs) {
      const start = this.#starts.shift()!;
      const byTicker = this.#open.get(start)!;
      this.#delete(start);
      const tickers = [...byTicker.keys()].sort();
      for (const ticker of tickers) {
        out.push(toCandle(ticker, start, start + this.#intervalMs, byTicker.get(ticker)!));
        emitted++;
      }
    }
    return emitted;
  }

  /** The candles still forming (for live views); not final. */
  *forming(): Iterable<Candle> {
    for (const start of this.#starts) {
      for (const [ticker, acc] of this.#open.get(start)!) yield toCandle(ticker, start, start + this.#intervalMs, acc);
    }
  }

  /** Open windows per ticker, for a checkpoint. */
  exportTo(state: (ticker: string) => { candles: CandleState[] }): void {
    for (const start of this.#starts) {
      for (const [ticker, a] of this.#open.get(start)!) {
        state(ticker).candles.push({
          windowStartMs: start,
          openE4: a.openE4,
          highE4: a.highE4,
          lowE4: a.lowE4,
          closeE4: a.closeE4,
          volume: a.volume,
          notionalE4: a.notionalE4.toBigInt().toString(),
          tradeCount: a.tradeCount,
        });
      }
    }
  }

  /** A ticker's open windows from a checkpoint (replacing any the ticker has here). */
  restore(ticker: string, candles: readonly CandleState[]): void {
    for (const c of candles) {
      let byTicker = this.#open.get(c.windowStartMs);
      if (byTicker === undefined) {
        byTicker = new Map();
        this.#open.set(c.windowStartMs, byTicker);
        this.#insertStart(c.windowStartMs);
      }
      byTicker.set(ticker, {
        openE4: c.openE4,
        highE4: c.highE4,
        lowE4: c.lowE4,
        closeE4: c.closeE4,
        volume: c.volume,
        notionalE4: ExactSum.of(BigInt(c.notionalE4)),
        tradeCount: c.tradeCount,
      });
    }
  }

  /** Drop these tickers' open windows (their partition moved to another consumer). */
  forget(tickers: ReadonlySet<string>): void {
    for (let i = this.#starts.length - 1; i >= 0; i--) {
      const start = this.#starts[i]!;
      const byTicker = this.#open.get(start)!;
      for (const t of tickers) byTicker.delete(t);
      if (byTicker.size === 0) {
        this.#delete(start);
        this.#starts.splice(i, 1);
      }
    }
  }

  get openWindowCount(): number {
    return this.#starts.length;
  }

  #delete(start: number): void {
    this.#open.delete(start);
    if (start === this.#lastStart) {
      this.#lastStart = Number.NaN;
      this.#last = undefined;
    }
  }

  #insertStart(start: number): void {
    const s = this.#starts;
    let i = s.length;
    while (i > 0 && s[i - 1]! > start) i--;
    s.splice(i, 0, start);
  }
}

function toCandle(ticker: string, windowStartMs: number, windowEndMs: number, a: CandleAccumulator): Candle {
  return {
    ticker,
    windowStartMs,
    windowEndMs,
    openE4: a.openE4,
    highE4: a.highE4,
    lowE4: a.lowE4,
    closeE4: a.closeE4,
    volume: a.volume,
    vwapE4: Number(divideHalfUp(a.notionalE4.toBigInt(), BigInt(a.volume))),
    tradeCount: a.tradeCount,
  };
}
