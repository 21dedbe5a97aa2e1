import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TICKERS, Market, type TradeDraw } from '../../src/simulate/market.ts';
import { TradeLineBytes } from '../../src/simulate/trade-line-bytes.ts';
import { MAX_EVENT_TIME_MS, MAX_VOLUME, tradeToJson } from '../../src/trade/trade.ts';

/** The reference: the contract's JSON of the same trade, as UTF-8. */
function reference(market: Market, d: TradeDraw): string {
  return JSON.stringify(tradeToJson({ tradeId: market.tradeId(d.serial), ticker: d.ticker, priceE4: d.priceE4, volume: d.volume, tsMs: d.tsMs }));
}

const decoder = new TextDecoder('utf-8', { fatal: true });

describe("the simulator's lines written as bytes", () => {
  it("are the UTF-8 of JSON.stringify(tradeToJson(trade)) for the market's own trades", () => {
    for (const seed of [0, 1, 2 ** 32 - 1]) {
      const market = new Market({ seed });
      const twin = new Market({ seed });
      const lines = new TradeLineBytes(market.idPrefix, market.tickers);
      const buf = new Uint8Array(lines.maxLineBytes * 3);
      for (let i = 0; i < 20_000; i++) {
        const ts = Date.UTC(2026, 10, 30, 14, 30) + i * 7;
        // Written in the middle of a buffer, to show it stays inside its own bytes.
        const start = lines.maxLineBytes;
        const end = lines.write(buf, start, market.draw(ts));
        expect(decoder.decode(buf.subarray(start, end))).toBe(JSON.stringify(tradeToJson(twin.next(ts))));
      }
    }
  });

  it('are exact for any parts in the contract: serials to 2^53, any ticker text, every price, volume and time', () => {
    const market = new Market({ seed: 7 });
    const draw = fc.record({
      serial: fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.maxSafeNat()),
      tickerIndex: fc.constant(0),
      ticker: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 })),
      priceE4: fc.integer({ min: 0, max: 999_999_9999 }),
      volume: fc.oneof(fc.integer({ min: 0, max: MAX_VOLUME }), fc.integer({ min: -MAX_VOLUME, max: 0 })),
      tsMs: fc.oneof(fc.integer({ min: -62_167_219_200_000, max: MAX_EVENT_TIME_MS }), fc.double({ min: 0, max: 4e12, noNaN: true })),
    });
    fc.assert(
      fc.property(fc.array(draw, { minLength: 1, maxLength: 20 }), (draws) => {
        const lines = new TradeLineBytes(
          market.idPrefix,
          draws.map((d) => d.ticker),
        );
        const buf = new Uint8Array(lines.maxLineBytes * draws.length);
        let pos = 0;
        draws.forEach((d, i) => {
          const end = lines.write(buf, pos, { ...d, tickerIndex: i });
          expect(end - pos).toBeLessThanOrEqual(lines.maxLineBytes);
          expect(decoder.decode(buf.subarray(pos, end))).toBe(reference(market, d));
          pos = end;
        });
      }),
      { numRuns: 2_000 },
    );
  });

  it('bound the longest line: the longest ticker, serial, price, volume and timestamp together', () => {
    const longest = 'ABCDEFGHIJ';
    const lines = new TradeLineBytes('3w5e11264sgsf-', [...DEFAULT_TICKERS, longest]);
    const d: TradeDraw = {
      serial: 2 ** 53,
      tickerIndex: DEFAULT_TICKERS.length,
      ticker: longest,
      priceE4: 999_999_9999,
      volume: -(2 ** 53 - 1),
      tsMs: -8_640_000_000_000_000,
    };
    const buf = new Uint8Array(lines.maxLineBytes);
    expect(lines.write(buf, 0, d)).toBeLessThanOrEqual(lines.maxLineBytes);
  });
});
