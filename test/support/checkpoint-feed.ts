import { SeededRandom } from '../../src/simulate/random.ts';
import { formatPriceE4 } from '../../src/trade/trade.ts';

/**
 * Lines that exercise what a checkpoint must keep: few tickers on a coarse clock (many trades
 * of one ticker share an event time, so arrival order decides spike baselines), disorder within
 * a 2 s bound and some trades exactly at it (on time, at the watermark), replays of recent lines,
 * broken records, heavy-tailed volumes. `id` names the i-th line's trade (and its broken twin).
 */
export function checkpointFeedLines(seed: number, count: number, o: { start: number; tickers: readonly string[]; id: (i: number) => string }): string[] {
  const rng = new SeededRandom(seed);
  const lines: string[] = [];
  let clock = o.start;
  for (let i = 0; i < count; i++) {
    const u = rng.next();
    if (u < 0.05 && lines.length > 0) {
      lines.push(lines[Math.max(0, lines.length - 1 - rng.int(rng.next() < 0.5 ? 6 : 200))]!);
      continue;
    }
    if (u < 0.07) {
      lines.push(`{"trade_id":"broken-${o.id(i)}"`);
      continue;
    }
    clock += rng.int(3) * 250;
    const behind = rng.next();
    const ts = behind < 0.1 ? clock - rng.int(1_500) : behind < 0.15 ? clock - 2_000 : clock;
    const volume = 1 + rng.int(1_000) * (rng.next() < 0.05 ? 60 : 1);
    const price = formatPriceE4(1_000_000 + rng.int(50_000));
    lines.push(JSON.stringify({ trade_id: o.id(i), ticker: o.tickers[rng.int(o.tickers.length)], price, volume, trade_timestamp: new Date(ts).toISOString() }));
  }
  return lines;
}
