import type { SeededRandom } from './random.ts';

export interface TradeSizeOptions {
  /** Median size of an ordinary trade, shares. */
  medianVolume?: number;
  /** Share of trades above `largeThreshold`. */
  largeFraction?: number;
  largeThreshold?: number;
}

export const DEFAULT_MEDIAN_VOLUME = 200;
export const DEFAULT_LARGE_FRACTION = 0.0001;
/** Log-normal spread of ordinary trades: narrow enough that 10× the recent mean is rare. */
const BODY_SIGMA = 0.6;
/** Share of ordinary trades of 100 shares or more that are printed as round lots. */
const ROUND_LOT_SHARE = 0.6;
/** Block prints are this many times as common as large trades… */
const BLOCKS_PER_LARGE = 2;
/** …and reach at most this many times the large-trade threshold. */
const BLOCK_MAX_OVER_THRESHOLD = 5;

/**
 * Trade sizes: a log-normal body of ordinary trades (odd lots and round lots) and a heavy tail
 * of block prints whose density falls as 1/size (log-uniform) up to 5× the large-trade
 * threshold. The block range is solved so that exactly `largeFraction` of all trades (in
 * expectation) are above the threshold, with three blocks for every large trade.
 *
 * Why the body is narrow and the tail separate: the volume-spike rule compares a trade with 10×
 * the mean of the ticker's last 50; a power-law tail that starts at the body would make ~1 % of
 * trades spikes (the old market's flood). Here ordinary flow almost never spikes, blocks do.
 */
export class TradeSizes {
  readonly blockFraction: number;
  readonly blockMin: number;
  readonly blockMax: number;
  readonly #logMedian: number;
  readonly #logBlockMin: number;
  readonly #logBlockSpan: number;

  constructor(o: TradeSizeOptions) {
    const threshold = o.largeThreshold ?? 1_000_000;
    const large = o.largeFraction ?? DEFAULT_LARGE_FRACTION;
    this.blockFraction = Math.min(1, BLOCKS_PER_LARGE * large);
    // Log-uniform on [min, max]: P(size > threshold) = ln(max/threshold) / ln(max/min) = large/blocks.
    const aboveShare = this.blockFraction > 0 ? large / this.blockFraction : 1 / BLOCKS_PER_LARGE;
    this.blockMax = BLOCK_MAX_OVER_THRESHOLD * threshold;
    this.#logBlockSpan = Math.log(BLOCK_MAX_OVER_THRESHOLD) / aboveShare;
    this.blockMin = Math.max(1, Math.round(this.blockMax * Math.exp(-this.#logBlockSpan)));
    this.#logBlockMin = Math.log(this.blockMax) - this.#logBlockSpan;
    this.#logMedian = Math.log(o.medianVolume ?? DEFAULT_MEDIAN_VOLUME);
  }

  /**
   * One trade's size. `z` is a standard normal the caller drew; `surge` multiplies ordinary
   * sizes (news bursts). Whole shares, at least 1.
   */
  draw(rng: SeededRandom, z: number, surge: number): number {
    const u = rng.next();
    if (u < this.blockFraction) {
      // Reuse the uniform: u / blockFraction is uniform on [0, 1) too.
      const size = Math.exp(this.#logBlockMin + this.#logBlockSpan * (u / this.blockFraction));
      return Math.max(100, Math.round(size / 100) * 100);
    }
    const size = surge * Math.exp(this.#logMedian + BODY_SIGMA * z);
    // And the rest of it decides round lot or not.
    if (size >= 100 && (u - this.blockFraction) / (1 - this.blockFraction) < ROUND_LOT_SHARE) return Math.round(size / 100) * 100;
    return Math.max(1, Math.round(size));
  }
}
