import { describe, expect, it } from 'vitest';
import { CandleWindows } from '../../src/engine/candle-windows.ts';
import type { Candle } from '../../src/engine/records.ts';
import type { Trade } from '../../src/trade/trade.ts';

const W = Date.UTC(2026, 10, 25, 9, 30); // a minute boundary
const trade = (tradeId: string, ticker: string, tsMs: number, volume = 1): Trade => ({ tradeId, ticker, priceE4: 10_000, volume, tsMs });
const view = (c: Candle) => `${c.ticker}@${c.windowStartMs - W} n=${c.tradeCount} v=${c.volume}`;

describe('candle windows', () => {
  it('a window closed and opened again is a new window, not the one that was emitted', () => {
    const w = new CandleWindows(60_000);
    w.add(trade('a', 'A', W + 1));
    const out: Candle[] = [];
    expect(w.closeUpTo(W + 60_000, out)).toBe(1);
    // The same window again (a restore can lower the watermark below an emitted window).
    w.add(trade('b', 'A', W + 2, 5));
    w.closeUpTo(W + 60_000, out);
    expect(out.map(view)).toEqual(['A@0 n=1 v=1', 'A@0 n=1 v=5']);
  });

  it("a window emptied by forgetting its tickers takes that ticker's next trade afresh", () => {
    const w = new CandleWindows(60_000);
    w.add(trade('a', 'A', W + 1));
    w.forget(new Set(['A']));
    expect(w.openWindowCount).toBe(0);
    w.add(trade('b', 'A', W + 2, 7));
    const out: Candle[] = [];
    w.closeUpTo(W + 60_000, out);
    expect(out.map(view)).toEqual(['A@0 n=1 v=7']);
  });

  it('trades alternating between two open windows land in their own', () => {
    const w = new CandleWindows(60_000);
    for (let i = 0; i < 10; i++) w.add(trade(`t${i}`, 'A', W + (i % 2 === 0 ? 59_000 : 60_000) + i, i + 1));
    const out: Candle[] = [];
    w.closeUpTo(W + 120_000, out);
    expect(out.map(view)).toEqual(['A@0 n=5 v=25', 'A@60000 n=5 v=30']);
  });
});
