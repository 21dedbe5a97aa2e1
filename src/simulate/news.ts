import type { SeededRandom } from './random.ts';

export interface NewsOptions {
  /** Mean event-time seconds between news bursts, over the whole market; 0 = no news. */
  newsEverySeconds?: number;
}

export const DEFAULT_NEWS_EVERY_SECONDS = 180;
/** How fast a burst's volume surge and crowding fade. */
const HEAT_HALF_LIFE_SECONDS = 4;
/** At the height of a burst this share of all trades goes to the news ticker, on top of its own. */
export const NEWS_CROWDING = 0.3;
/** At the height of a burst ordinary trades of the news ticker are this many times their size. */
export const NEWS_SURGE = 25;
/** Price jumps are 3–5.5 % either way. */
const JUMP_MIN = 0.03;
const JUMP_SPREAD = 0.025;
const HEAT_OFF = 1e-3;

/**
 * News bursts: at exponentially spaced moments (counted in trades, so spacing in event time
 * does not depend on the rate) one ticker gets news — its price jumps a few percent, and for
 * a few seconds it draws a crowd (more of the trades) of larger trades. `heat` is 1 when the
 * news breaks and halves every few seconds; the market reads it on every trade.
 */
export class NewsBursts {
  /** The ticker the latest news is about, or -1 before any news. */
  ticker = -1;
  heat = 0;
  readonly #meanGap: number;
  readonly #heatDecay: number;
  #countdown: number;

  constructor(tradesPerSecond: number, o: NewsOptions, rng: SeededRandom) {
    const every = o.newsEverySeconds ?? DEFAULT_NEWS_EVERY_SECONDS;
    this.#meanGap = every > 0 ? every * tradesPerSecond : Number.POSITIVE_INFINITY;
    this.#heatDecay = 2 ** (-1 / (HEAT_HALF_LIFE_SECONDS * tradesPerSecond));
    this.#countdown = this.#gap(rng);
  }

  /**
   * Advance by one trade. Returns the signed log-price jump of news that breaks now (the
   * ticker is in `ticker`), or 0.
   */
  step(rng: SeededRandom, tickerCount: number): number {
    if (this.heat > 0) this.heat = this.heat > HEAT_OFF ? this.heat * this.#heatDecay : 0;
    if (--this.#countdown > 0) return 0;
    this.#countdown = this.#gap(rng);
    this.ticker = Math.floor(rng.next() * tickerCount);
    this.heat = 1;
    const size = JUMP_MIN + JUMP_SPREAD * rng.next();
    return rng.next() < 0.5 ? Math.log1p(size) : Math.log1p(-size);
  }

  #gap(rng: SeededRandom): number {
    if (!Number.isFinite(this.#meanGap)) return Number.POSITIVE_INFINITY;
    return Math.max(1, Math.ceil(-Math.log(1 - rng.next()) * this.#meanGap));
  }
}
