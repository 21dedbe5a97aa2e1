import { PRICE_SCALE, type Trade } from '../trade/trade.ts';
import { NEWS_CROWDING, NEWS_SURGE, NewsBursts, type NewsOptions } from './news.ts';
import { SeededRandom } from './random.ts';
import { SESSION_MS } from './session.ts';
import { DEFAULT_TICKERS, tickerProfile } from './tickers.ts';
import { type TradeSizeOptions, TradeSizes } from './trade-sizes.ts';

export { DEFAULT_TICKERS } from './tickers.ts';

export interface MarketOptions extends TradeSizeOptions, NewsOptions {
  seed: number;
  tickers?: string[] | undefined;
  /**
   * Average trades per second of event time. Volatility is set per trade from it, so a day's
   * price movement does not depend on the rate; news spacing too. Default 1,000.
   */
  tradesPerSecond?: number;
  /** Length of a trading day in event time (session.ts). */
  sessionMs?: number;
}

/** A trade's parts as Market#draw gives them; `serial` numbers the market's trades from 0. */
export interface TradeDraw {
  serial: number;
  /** Index into Market#tickers. */
  tickerIndex: number;
  ticker: string;
  priceE4: number;
  volume: number;
  tsMs: number;
}

/** A diffusion that drifts this far from its anchor is pulled back with this half-life, in days. */
const ANCHOR_HALF_LIFE_SESSIONS = 100;
/** News moves fade: half of a jump is gone after this many seconds. */
const IMPACT_HALF_LIFE_SECONDS = 120;
/** During news the ticker's per-trade volatility is up to this many times its usual. */
const NEWS_VOL_BOOST = 2;
const MIN_PRICE_E4 = 100; // $0.01
const MAX_PRICE_E4 = 999_999_9999; // the contract: price < 10^6 at 4 decimals

/**
 * A seeded market (docs/simulator.md). Each ticker's log price is a slowly mean-reverting
 * Brownian motion in trade time — per-trade volatility = daily volatility / √(its trades per
 * day) — plus the fading impact of news jumps. Trades pick a ticker by its activity (crowded
 * toward news), a size from TradeSizes (surging with news), and are stamped with the time the
 * caller gives (the session clock, in SimulatorSource). `next` allocates the trade and its id;
 * `draw` nothing.
 */
export class Market {
  readonly tickers: string[];
  readonly #rng: SeededRandom;
  readonly #sizes: TradeSizes;
  readonly #news: NewsBursts;
  /** Cumulative activity shares; the last is 1. */
  readonly #cumShare: Float64Array;
  readonly #sigma: Float64Array;
  readonly #anchor: Float64Array;
  readonly #pull: Float64Array;
  readonly #impactDecay: Float64Array;
  readonly #logPrice: Float64Array;
  readonly #impact: Float64Array;
  /** Every trade id starts with this. */
  readonly idPrefix: string;
  readonly #draw: TradeDraw = { serial: 0, tickerIndex: 0, ticker: '', priceE4: 0, volume: 0, tsMs: 0 };
  /** The two normals of a trade (price move, size), reused. */
  readonly #z = new Float64Array(2);
  #n = 0;

  constructor(o: MarketOptions) {
    this.tickers = o.tickers ?? DEFAULT_TICKERS;
    const rng = new SeededRandom(o.seed);
    this.#rng = rng;
    const perSecond = o.tradesPerSecond ?? 1000;
    const perSession = (perSecond * (o.sessionMs ?? SESSION_MS)) / 1000;
    const k = this.tickers.length;
    const profiles = this.tickers.map((t) => tickerProfile(t, rng));
    const total = profiles.reduce((s, p) => s + p.activity, 0);
    this.#cumShare = new Float64Array(k);
    this.#sigma = new Float64Array(k);
    this.#anchor = new Float64Array(k);
    this.#pull = new Float64Array(k);
    this.#impactDecay = new Float64Array(k);
    this.#logPrice = new Float64Array(k);
    this.#impact = new Float64Array(k);
    let cum = 0;
    for (let i = 0; i < k; i++) {
      const p = profiles[i]!;
      const share = p.activity / total;
      cum += share;
      this.#cumShare[i] = i === k - 1 ? 1 : cum;
      const tradesPerDay = perSession * share;
      this.#sigma[i] = p.dailyVol / Math.sqrt(tradesPerDay);
      this.#anchor[i] = Math.log(p.price);
      this.#logPrice[i] = this.#anchor[i]!;
      this.#pull[i] = Math.LN2 / (ANCHOR_HALF_LIFE_SESSIONS * tradesPerDay);
      this.#impactDecay[i] = 2 ** (-1 / (IMPACT_HALF_LIFE_SECONDS * perSecond * share));
    }
    this.#sizes = new TradeSizes(o);
    this.#news = new NewsBursts(perSecond, o, rng);
    this.idPrefix = `${(o.seed >>> 0).toString(36)}-`;
  }

  /** The next trade. */
  next(tsMs: number): Trade {
    const d = this.draw(tsMs);
    return { tradeId: this.tradeId(d.serial), ticker: d.ticker, priceE4: d.priceE4, volume: d.volume, tsMs };
  }

  /** The id of the trade with this serial: the seed in base 36, then the serial, at least 7 digits. */
  tradeId(serial: number): string {
    return `${this.idPrefix}${serial.toString(36).padStart(7, '0')}`;
  }

  /**
   * The next trade as its parts, in one object that every call overwrites: for a writer that
   * copies them out at once (the simulator's lines), so a trade costs no object and no id string.
   */
  draw(tsMs: number): TradeDraw {
    const rng = this.#rng;
    const news = this.#news;
    const jump = news.step(rng, this.tickers.length);
    if (jump !== 0) this.#impact[news.ticker] = this.#impact[news.ticker]! + jump;
    const heat = news.heat;

    let u = rng.next();
    let i: number;
    const crowd = NEWS_CROWDING * heat;
    if (u < crowd) i = news.ticker;
    else {
      u = (u - crowd) / (1 - crowd);
      i = 0;
      const last = this.tickers.length - 1;
      while (i < last && u >= this.#cumShare[i]!) i++;
    }
    const hot = heat > 0 && i === news.ticker ? heat : 0;

    const z = this.#z;
    rng.normals(z);
    const zPrice = z[0]!;
    const zSize = z[1]!;
    const anchor = this.#anchor[i]!;
    let x = this.#logPrice[i]!;
    x += this.#pull[i]! * (anchor - x) + this.#sigma[i]! * (1 + NEWS_VOL_BOOST * hot) * zPrice;
    this.#logPrice[i] = x;
    const impact = this.#impact[i]! * this.#impactDecay[i]!;
    this.#impact[i] = impact;
    const priceE4 = Math.min(MAX_PRICE_E4, Math.max(MIN_PRICE_E4, Math.round(Math.exp(x + impact) * PRICE_SCALE)));

    const d = this.#draw;
    d.volume = this.#sizes.draw(rng, zSize, 1 + (NEWS_SURGE - 1) * hot);
    d.serial = this.#n++;
    d.tickerIndex = i;
    d.ticker = this.tickers[i]!;
    d.priceE4 = priceE4;
    d.tsMs = tsMs;
    return d;
  }
}
