import type { SeededRandom } from './random.ts';

export const DEFAULT_TICKERS = ['AAPL', 'MSFT', 'GOOGL', 'AMZN', 'NVDA', 'TSLA', 'META', 'JPM'];

/** What makes one ticker trade unlike another. */
export interface TickerProfile {
  /** Price at the first open, dollars. */
  readonly price: number;
  /** Standard deviation of the log return over one session (0.02 = 2 %). */
  readonly dailyVol: number;
  /** Relative share of the market's trades. */
  readonly activity: number;
}

/** Roughly their late-2020s levels and temperaments: the megacaps calm, NVDA and TSLA not. */
const KNOWN: Readonly<Record<string, TickerProfile>> = {
  AAPL: { price: 230, dailyVol: 0.015, activity: 1.2 },
  MSFT: { price: 420, dailyVol: 0.013, activity: 1.0 },
  GOOGL: { price: 170, dailyVol: 0.018, activity: 0.8 },
  AMZN: { price: 200, dailyVol: 0.02, activity: 1.0 },
  NVDA: { price: 130, dailyVol: 0.032, activity: 1.6 },
  TSLA: { price: 250, dailyVol: 0.038, activity: 1.4 },
  META: { price: 580, dailyVol: 0.023, activity: 0.8 },
  JPM: { price: 240, dailyVol: 0.012, activity: 0.6 },
};

/** A known ticker's profile, or one drawn from the seed: $20–$500, 1–4 % a day, average activity. */
export function tickerProfile(ticker: string, rng: SeededRandom): TickerProfile {
  const known = KNOWN[ticker];
  if (known !== undefined) return known;
  return { price: 20 + rng.next() * 480, dailyVol: 0.01 + rng.next() * 0.03, activity: 1 };
}
