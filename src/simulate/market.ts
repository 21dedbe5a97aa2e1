import { MAX_VOLUME, type Trade } from '../trade/trade.ts';
import { SeededRandom } from './random.ts';

export const DEFAULT_TICKERS = ['AAPL', 'MSFT', 'GOOGL', 'AMZN', 'NVDA', 'TSLA', 'META', 'JPM'];

export interface MarketOptions {
  seed: number;
  tickers?: string[];
  /** Share of trades above `largeThreshold` (heavy tail calibrated to it). */
  largeFraction?: number;
  largeThreshold?: number;
  /** Median size of an ordinary trade. */
  medianVolume?: number;
}

/**
 * A seeded market: per-ticker geometric random-walk prices (cent ticks); volumes are a mix of
 * ordinary trades (log-normal around `medianVolume`, never above the threshold) and rare block
 * trades (Pareto tail above the threshold), so about `largeFraction` of trades are large.
 */
export class Market {
  readonly tickers: string[];
  readonly #rng: SeededRandom;
  readonly #pricesCents: number[];
  readonly #largeFraction: number;
  readonly #threshold: number;
  readonly #logMedian: number;
  readonly #idPrefix: string;
  #n = 0;

  constructor(o: MarketOptions) {
    this.tickers = o.tickers ?? DEFAULT_TICKERS;
    this.#rng = new SeededRandom(o.seed);
    this.#largeFraction = o.largeFraction ?? 0.01;
    this.#threshold = o.largeThreshold ?? 1_000_000;
    this.#logMedian = Math.log(o.medianVolume ?? 400);
    this.#pricesCents = this.tickers.map(() => 2_000 + this.#rng.int(48_000));
    this.#idPrefix = `${(o.seed >>> 0).toString(36)}-`;
  }

  next(tsMs: number): Trade {
    const rng = this.#rng;
    const i = rng.int(this.tickers.length);
    // A few basis points of drift per trade, never below one dollar.
    const cents = this.#pricesCents[i]!;
    const moved = Math.max(100, Math.round(cents * Math.exp(0.0005 * rng.normal())));
    this.#pricesCents[i] = moved;
    let volume: number;
    if (rng.next() < this.#largeFraction) {
      let u = rng.next();
      while (u === 0) u = rng.next();
      volume = Math.min(MAX_VOLUME, this.#threshold + 1 + Math.floor(this.#threshold * (u ** (-1 / 1.5) - 1)));
    } else {
      const v = Math.round(Math.exp(this.#logMedian + 1.1 * rng.normal()));
      volume = Math.max(1, Math.min(this.#threshold, v));
    }
    const id = this.#n++;
    return {
      tradeId: `${this.#idPrefix}${id.toString(36).padStart(7, '0')}`,
      ticker: this.tickers[i]!,
      priceE4: moved * 100,
      volume,
      tsMs,
    };
  }
}
