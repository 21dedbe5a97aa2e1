import { formatPriceE4, formatTimestamp } from '../trade/trade.ts';
import { Market, type MarketOptions } from './market.ts';
import { SeededRandom } from './random.ts';

export interface DirtyFeedOptions extends MarketOptions {
  count: number;
  startMs: number;
  stepMs?: number;
  /** Shares of the output lines (the rest are clean trades). */
  replays?: number;
  malformed?: number;
  outOfOrder?: number;
  /** Out of order by more than the bound: late. Off by default (the differential contract excludes it). */
  late?: number;
  aliasTimestamp?: number;
  outOfOrdernessMs?: number;
}

const MALFORMED: ((rng: SeededRandom) => string)[] = [
  () => 'not json at all',
  () => '{"trade_id":"broken", "ticker":',
  () => '[1,2,3]',
  () => '{"ticker":"AAPL","price":"1.00","volume":5,"trade_timestamp":"2026-11-25T00:00:00Z"}',
  (r) => `{"trade_id":"bad-price-${r.int(1e9)}","ticker":"AAPL","price":"12.345678","volume":5,"trade_timestamp":"2026-11-25T00:00:00Z"}`,
  (r) => `{"trade_id":"neg-price-${r.int(1e9)}","ticker":"AAPL","price":"-3","volume":5,"trade_timestamp":"2026-11-25T00:00:00Z"}`,
  (r) => `{"trade_id":"bad-ticker-${r.int(1e9)}","ticker":"aapl<b>","price":"1.5","volume":5,"trade_timestamp":"2026-11-25T00:00:00Z"}`,
  (r) => `{"trade_id":"bad-volume-${r.int(1e9)}","ticker":"MSFT","price":"1.5","volume":0,"trade_timestamp":"2026-11-25T00:00:00Z"}`,
  (r) => `{"trade_id":"float-volume-${r.int(1e9)}","ticker":"MSFT","price":"1.5","volume":10.5,"trade_timestamp":"2026-11-25T00:00:00Z"}`,
  (r) => `{"trade_id":"no-zone-${r.int(1e9)}","ticker":"MSFT","price":"1.5","volume":10,"trade_timestamp":"2026-11-25T00:00:00"}`,
  (r) => `{"trade_id":"bad-date-${r.int(1e9)}","ticker":"MSFT","price":"1.5","volume":10,"trade_timestamp":"2026-02-30T00:00:00Z"}`,
];

/**
 * A reproducible JSONL feed with the dirt real feeds have: replayed records, malformed lines,
 * bounded disorder, the seed's `timestamp` alias, and (optionally) late trades. Tests and
 * `tickflow simulate --dirty` use it.
 */
export function* dirtyFeed(o: DirtyFeedOptions): Generator<string> {
  const step = o.stepMs ?? 100;
  // The market's day-long volatility and news spacing follow the feed's own clock.
  const market = new Market({ ...o, tradesPerSecond: o.tradesPerSecond ?? 1000 / step });
  const rng = new SeededRandom((o.seed ^ 0x5eed) >>> 0);
  const bound = o.outOfOrdernessMs ?? 5_000;
  const shares = {
    replays: o.replays ?? 0.02,
    malformed: o.malformed ?? 0.02,
    outOfOrder: o.outOfOrder ?? 0.05,
    late: o.late ?? 0,
    alias: o.aliasTimestamp ?? 0.05,
  };
  const emitted: string[] = [];
  let clock = o.startMs;
  for (let i = 0; i < o.count; i++) {
    const u = rng.next();
    if (u < shares.replays && emitted.length > 0) {
      yield emitted[rng.int(emitted.length)]!;
      continue;
    }
    if (u < shares.replays + shares.malformed) {
      yield MALFORMED[rng.int(MALFORMED.length)]!(rng);
      continue;
    }
    clock += step;
    let ts = clock;
    const v = rng.next();
    // Disorder stays strictly inside the bound, so no trade of this kind is late.
    if (v < shares.outOfOrder) ts = clock - 1 - rng.int(Math.max(1, Math.floor(bound / 2)));
    else if (v < shares.outOfOrder + shares.late) ts = clock - bound - 1_000 - rng.int(10_000);
    const t = market.next(ts);
    const tsKey = rng.next() < shares.alias ? 'timestamp' : 'trade_timestamp';
    const line = `{"trade_id":"${t.tradeId}","ticker":"${t.ticker}","price":"${formatPriceE4(t.priceE4)}","volume":${t.volume},"${tsKey}":"${formatTimestamp(t.tsMs)}"}`;
    emitted.push(line);
    if (emitted.length > 1000) emitted.shift();
    yield line;
  }
}
