import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyOutput } from '../../src/engine/records.ts';
import { openStore } from '../../src/store/open-store.ts';
import { TradeCopyRows, tradesToCopyBinary } from '../../src/store/trade-copy-binary.ts';
import type { Store } from '../../src/store/store.ts';
import { MAX_EVENT_TIME_MS, MAX_TRADE_ID_LENGTH, MAX_VOLUME, formatPriceE4, type Trade } from '../../src/trade/trade.ts';
import { freshDatabase } from '../support/postgres.ts';

/** What the database must hold for a trade, read back as text: the columns' own canonical forms. */
const expected = (t: Trade): string => [t.tradeId, t.ticker, formatPriceE4(t.priceE4), t.volume, t.tsMs].join('|');
const READ_BACK = `SELECT trade_id || '|' || ticker || '|' || price::text || '|' || volume || '|' ||
  (extract(epoch FROM trade_timestamp) * 1000)::bigint AS row FROM stock_trades`;

const MAX_PRICE_E4 = 10 ** 10 - 1;
const EDGE_PRICES = [1, 9_999, 10_000, 10_001, 99_990_000, 100_000_000, 100_000_001, 1_000_000_000, 1_234_500, MAX_PRICE_E4];
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);
const EDGE_TIMES = [0, -60_000, 1, 999, PG_EPOCH_MS - 1, PG_EPOCH_MS, PG_EPOCH_MS + 1, 2 ** 32, 2 ** 32 * 1000, 1_764_500_000_123, MAX_EVENT_TIME_MS];

const idChar = fc.oneof(
  fc.constantFrom('a', 'Z', '0', '-', '_', ':', '\\', ',', '"', "'", ' ', '€', 'é', '中', '😀', '𝄞'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
);
/** Ids as the parser lets them through: 1..255 characters, none a control character. */
const tradeId = fc
  .array(idChar, { minLength: 1, maxLength: 40 })
  .map((cs) => cs.join(''))
  .filter((s) => s.isWellFormed() && !/\p{Cc}/u.test(s) && [...s].length <= MAX_TRADE_ID_LENGTH);
const trade = fc.record({
  tradeId,
  ticker: fc.stringMatching(/^[A-Z0-9.-]{1,10}$/),
  priceE4: fc.oneof(fc.integer({ min: 1, max: MAX_PRICE_E4 }), fc.constantFrom(...EDGE_PRICES)),
  volume: fc.oneof(fc.integer({ min: 1, max: MAX_VOLUME }), fc.constantFrom(1, 2 ** 16, 2 ** 31 - 1)),
  tsMs: fc.oneof(fc.integer({ min: -86_400_000, max: MAX_EVENT_TIME_MS }), fc.constantFrom(...EDGE_TIMES)),
});
const batch = fc.uniqueArray(trade, { minLength: 1, maxLength: 60, selector: (t) => t.tradeId });

describe('a COPY stream built a batch at a time (as a run takes trades from the engine)', () => {
  it('is byte for byte the stream of all its trades at once, however they are split; take() starts the next one empty', () => {
    fc.assert(
      fc.property(fc.array(batch, { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: 5 }), (batches, cut) => {
        const all = batches.flat();
        const rows = new TradeCopyRows();
        for (const b of batches) rows.append(b);
        expect(rows.count).toBe(all.length);
        const whole = rows.take();
        expect(whole.count).toBe(all.length);
        expect(Buffer.from(whole.copy).equals(Buffer.from(tradesToCopyBinary(all)))).toBe(true);
        expect(rows.count).toBe(0);
        // A stream taken earlier, continued with the rest: what the store sends for a drain
        // that still held trades.
        const at = Math.min(cut, batches.length);
        for (const b of batches.slice(0, at)) rows.append(b);
        const earlier = rows.take();
        const rest = new TradeCopyRows();
        rest.appendEncoded(earlier);
        for (const b of batches.slice(at)) rest.append(b);
        expect(Buffer.from(rest.take().copy).equals(Buffer.from(whole.copy))).toBe(true);
        expect(Buffer.from(rows.take().copy).equals(Buffer.from(tradesToCopyBinary([])))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});

// Both backends read the rows tickflow sends as binary COPY; every column must come back as the
// value the engine held, for any trade the parser accepts.
describe.each([
  ['PostgreSQL', async () => freshDatabase('tickflow_copy_binary'), undefined],
  ['PGlite', async () => ({ url: 'memory', drop: async () => {} }), 'footprint' as const],
  ['PGlite on its own thread', async () => ({ url: 'memory', drop: async () => {} }), 'speed' as const],
])('binary COPY of stock_trades into %s', (_name, makeDb, pglite) => {
  let store: Store;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const db = await makeDb();
    drop = db.drop;
    store = await openStore(db.url, { pglite });
  });
  afterAll(async () => {
    await store?.close();
    await drop?.();
  });

  async function roundTrip(trades: Trade[]): Promise<void> {
    await store.query('TRUNCATE stock_trades');
    await store.write({ ...emptyOutput(), trades });
    const rows = (await store.query<{ row: string }>(READ_BACK)).map((r) => r.row).sort();
    expect(rows).toEqual(trades.map(expected).sort());
  }

  it('stores every edge price, time, volume and id exactly', async () => {
    const trades: Trade[] = [];
    for (const [i, priceE4] of EDGE_PRICES.entries()) trades.push({ tradeId: `p${i}`, ticker: 'AAPL', priceE4, volume: 1, tsMs: 0 });
    for (const [i, tsMs] of EDGE_TIMES.entries()) trades.push({ tradeId: `t${i}`, ticker: 'BRK.B', priceE4: 1, volume: MAX_VOLUME, tsMs });
    trades.push({ tradeId: '😀'.repeat(MAX_TRADE_ID_LENGTH), ticker: 'X', priceE4: 5, volume: 7, tsMs: 1 });
    trades.push({ tradeId: 'back\\slash,comma', ticker: 'X-1', priceE4: 50_000, volume: 7, tsMs: 2 });
    await roundTrip(trades);
  });

  it('stores generated trades exactly', async () => {
    await fc.assert(fc.asyncProperty(batch, roundTrip), { numRuns: 40 });
  });

  it('stores trades taken early as rows together with the ones drained after them, and a replay of them dedupes', async () => {
    await store.query('TRUNCATE stock_trades');
    const trades: Trade[] = Array.from({ length: 30 }, (_, i) => ({ tradeId: `e${i}`, ticker: 'AAPL', priceE4: 10_000 + i, volume: i + 1, tsMs: i }));
    const rows = new TradeCopyRows();
    rows.append(trades.slice(0, 12));
    rows.append(trades.slice(12, 20));
    const r = await store.write({ ...emptyOutput(), earlierTrades: rows.take(), trades: trades.slice(20) });
    expect(r.trades).toBe(30);
    // Only rows taken early, and a replay of some: the conflict sends the batch through staging.
    rows.append([trades[3]!, { tradeId: 'e30', ticker: 'MSFT', priceE4: 1, volume: 1, tsMs: 99 }]);
    const again = await store.write({ ...emptyOutput(), earlierTrades: rows.take() });
    expect(again.trades).toBe(1);
    const stored = (await store.query<{ row: string }>(READ_BACK)).map((x) => x.row).sort();
    expect(stored).toEqual([...trades, { tradeId: 'e30', ticker: 'MSFT', priceE4: 1, volume: 1, tsMs: 99 }].map(expected).sort());
  });

  // (postgres.js reports a failed COPY only as a refused one; PGlite passes the server's message.)
  it('refuses a 256-character id as the text path did, and the replay path still dedupes', async () => {
    await store.query('TRUNCATE stock_trades');
    await expect(store.write({ ...emptyOutput(), trades: [{ tradeId: 'é'.repeat(256), ticker: 'X', priceE4: 1, volume: 1, tsMs: 0 }] })).rejects.toThrow(
      /too long|COPY was refused/,
    );
    const first: Trade = { tradeId: 'r1', ticker: 'X', priceE4: 12_345, volume: 3, tsMs: 5 };
    await store.write({ ...emptyOutput(), trades: [first] });
    const second: Trade = { tradeId: 'r2', ticker: 'Y', priceE4: 1, volume: 1, tsMs: 6 };
    // r1 again: the COPY into stock_trades conflicts, the batch goes through the staging table.
    const r = await store.write({ ...emptyOutput(), trades: [{ ...first, volume: 999 }, second] });
    expect(r.trades).toBe(1);
    const rows = (await store.query<{ row: string }>(READ_BACK)).map((x) => x.row).sort();
    expect(rows).toEqual([expected(first), expected(second)]);
  });
});
