import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTradeBytes, parseTradeText, type RejectCode } from '../../src/trade/parse.ts';
import { formatPriceE4, MAX_EVENT_TIME_MS, tradeToJson } from '../../src/trade/trade.ts';
import { editedRecord } from '../support/trade-arbitraries.ts';

const valid = { trade_id: 't-1', ticker: 'AAPL', price: '187.2300', volume: 1200, trade_timestamp: '2026-11-25T06:01:02.123Z' };
const line = (o: Record<string, unknown>): string => JSON.stringify(o);
const without = (k: string): Record<string, unknown> => {
  const o: Record<string, unknown> = { ...valid };
  delete o[k];
  return o;
};

describe('parseTradeText accepts the contract', () => {
  it('reads a valid event exactly', () => {
    const r = parseTradeText(line(valid));
    expect(r).toEqual({
      ok: true,
      trade: { tradeId: 't-1', ticker: 'AAPL', priceE4: 1_872_300, volume: 1200, tsMs: Date.UTC(2026, 10, 25, 6, 1, 2, 123) },
    });
  });

  it.each([
    ['price as a number', { ...valid, price: 187.23 }, 1_872_300],
    ['price with fewer decimals', { ...valid, price: '187.2' }, 1_872_000],
    ['integer price', { ...valid, price: '5' }, 50_000],
    ['trailing zeros past 4 decimals', { ...valid, price: '1.230000' }, 12_300],
    ['smallest price', { ...valid, price: '0.0001' }, 1],
    ['largest price', { ...valid, price: '999999.9999' }, 9_999_999_999],
  ])('%s', (_, o, e4) => {
    const r = parseTradeText(line(o));
    expect(r.ok === true && r.trade.priceE4).toBe(e4);
  });

  it.each([
    ['seed alias `timestamp`', { ...without('trade_timestamp'), timestamp: '2026-11-25T06:01:02.123Z' }, Date.UTC(2026, 10, 25, 6, 1, 2, 123)],
    ['epoch milliseconds', { ...valid, trade_timestamp: 1_764_050_462_123 }, 1_764_050_462_123],
    ['zone offset', { ...valid, trade_timestamp: '2026-11-25T07:01:02+01:00' }, Date.UTC(2026, 10, 25, 6, 1, 2)],
    ['compact offset', { ...valid, trade_timestamp: '2026-11-25T01:01:02.5-0500' }, Date.UTC(2026, 10, 25, 6, 1, 2, 500)],
    ['space separator', { ...valid, trade_timestamp: '2026-11-25 06:01:02Z' }, Date.UTC(2026, 10, 25, 6, 1, 2)],
    ['microseconds truncated', { ...valid, trade_timestamp: '2026-11-25T06:01:02.123999Z' }, Date.UTC(2026, 10, 25, 6, 1, 2, 123)],
    ['leap day', { ...valid, trade_timestamp: '2028-02-29T00:00:00Z' }, Date.UTC(2028, 1, 29)],
    ['trade_timestamp wins over the alias', { ...valid, timestamp: 'garbage' }, Date.UTC(2026, 10, 25, 6, 1, 2, 123)],
  ])('timestamp: %s', (_, o, ms) => {
    const r = parseTradeText(line(o));
    expect(r.ok === true && r.trade.tsMs).toBe(ms);
  });

  it('counts trade_id in characters, as the VARCHAR(255) column does (not UTF-16 units)', () => {
    for (const id of ['\u{1F600}'.repeat(255), `${'\u{10FFFF}'.repeat(150)}${'é'.repeat(105)}`, `a${'\u{1D11E}'.repeat(254)}`]) {
      const r = parseTradeText(line({ ...valid, trade_id: id }));
      expect(r.ok === true && r.trade.tradeId).toBe(id);
    }
  });

  it('accepts the largest volume and a 10-character ticker with . and -', () => {
    const r = parseTradeText(line({ ...valid, volume: 2_147_483_647, ticker: 'BRK.B-2026' }));
    expect(r.ok).toBe(true);
  });
});

describe('parseTradeText rejects with a reason', () => {
  const cases: [string, string, RejectCode][] = [
    ['empty line', '', 'invalid_json'],
    ['whitespace', '   ', 'invalid_json'],
    ['not JSON', 'hello', 'invalid_json'],
    ['truncated JSON', '{"trade_id":"x",', 'invalid_json'],
    ['array', '[1,2]', 'not_an_object'],
    ['null', 'null', 'not_an_object'],
    ['string', '"trade"', 'not_an_object'],
    ['missing trade_id', line(without('trade_id')), 'missing_field'],
    ['missing ticker', line(without('ticker')), 'missing_field'],
    ['missing price', line(without('price')), 'missing_field'],
    ['missing volume', line(without('volume')), 'missing_field'],
    ['missing timestamp', line(without('trade_timestamp')), 'missing_field'],
    ['null price', line({ ...valid, price: null }), 'missing_field'],
    ['empty trade_id', line({ ...valid, trade_id: '' }), 'invalid_trade_id'],
    ['numeric trade_id', line({ ...valid, trade_id: 7 }), 'invalid_trade_id'],
    ['trade_id too long', line({ ...valid, trade_id: 'x'.repeat(256) }), 'invalid_trade_id'],
    ['trade_id with NUL', line({ ...valid, trade_id: 'a\u0000b' }), 'invalid_trade_id'],
    ['trade_id of 256 astral-plane characters', line({ ...valid, trade_id: '\u{1F600}'.repeat(256) }), 'invalid_trade_id'],
    ['trade_id of 255 characters, one astral past the limit', line({ ...valid, trade_id: `${'x'.repeat(255)}\u{1F600}` }), 'invalid_trade_id'],
    [
      'trade_id with a lone surrogate escape',
      '{"trade_id":"a\\ud800b","ticker":"A","price":"1","volume":1,"trade_timestamp":"2026-11-25T00:00:00Z"}',
      'invalid_trade_id',
    ],
    ['lower-case ticker', line({ ...valid, ticker: 'aapl' }), 'invalid_ticker'],
    ['ticker too long', line({ ...valid, ticker: 'ABCDEFGHIJK' }), 'invalid_ticker'],
    ['ticker with HTML', line({ ...valid, ticker: '<b>X</b>' }), 'invalid_ticker'],
    ['ticker with SQL', line({ ...valid, ticker: "A';DROP" }), 'invalid_ticker'],
    ['empty ticker', line({ ...valid, ticker: '' }), 'invalid_ticker'],
    ['price zero', line({ ...valid, price: '0' }), 'invalid_price'],
    ['negative price', line({ ...valid, price: '-1.5' }), 'invalid_price'],
    ['price too large', line({ ...valid, price: '1000000' }), 'invalid_price'],
    ['price five decimals', line({ ...valid, price: '1.23456' }), 'invalid_price'],
    ['price exponent', line({ ...valid, price: '1e3' }), 'invalid_price'],
    ['price text', line({ ...valid, price: 'abc' }), 'invalid_price'],
    ['price with plus', line({ ...valid, price: '+1' }), 'invalid_price'],
    ['price dot only', line({ ...valid, price: '1.' }), 'invalid_price'],
    ['price number too precise', line({ ...valid, price: 0.00001 }), 'invalid_price'],
    ['price boolean', line({ ...valid, price: true }), 'invalid_price'],
    ['volume zero', line({ ...valid, volume: 0 }), 'invalid_volume'],
    ['volume fraction', line({ ...valid, volume: 1.5 }), 'invalid_volume'],
    ['volume string', line({ ...valid, volume: '100' }), 'invalid_volume'],
    ['volume beyond INT', line({ ...valid, volume: 2_147_483_648 }), 'invalid_volume'],
    ['volume huge', '{"trade_id":"x","ticker":"A","price":"1","volume":1e400,"trade_timestamp":"2026-11-25T00:00:00Z"}', 'invalid_volume'],
    ['timestamp without zone', line({ ...valid, trade_timestamp: '2026-11-25T06:01:02' }), 'invalid_timestamp'],
    ['date only', line({ ...valid, trade_timestamp: '2026-11-25' }), 'invalid_timestamp'],
    ['February 30', line({ ...valid, trade_timestamp: '2026-02-30T00:00:00Z' }), 'invalid_timestamp'],
    ['hour 24', line({ ...valid, trade_timestamp: '2026-11-25T24:00:00Z' }), 'invalid_timestamp'],
    ['before 1970', line({ ...valid, trade_timestamp: '1969-12-31T23:59:59Z' }), 'invalid_timestamp'],
    ['fractional epoch', line({ ...valid, trade_timestamp: 1.5 }), 'invalid_timestamp'],
    ['negative epoch', line({ ...valid, trade_timestamp: -1 }), 'invalid_timestamp'],
    ['timestamp object', line({ ...valid, trade_timestamp: {} }), 'invalid_timestamp'],
  ];
  it.each(cases)('%s', (_, text, code) => {
    const r = parseTradeText(text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe(code);
      expect(r.reason.length).toBeGreaterThan(5);
    }
  });

  it('refuses oversized records before parsing them', () => {
    const big = line({ ...valid, pad: 'x'.repeat(70_000) });
    const r = parseTradeBytes(Buffer.from(big));
    expect(r.ok || r.code).toBe('too_large');
  });

  it.each([
    ['100k levels of [', '['.repeat(100_000), 'too_large'],
    ['deep but under the size cap', `${'['.repeat(30_000)}${']'.repeat(30_000)}`, 'not_an_object'],
    ['deep object under the size cap', `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`, 'missing_field'],
    ['unterminated deep nesting', '{"a":'.repeat(10_000), 'invalid_json'],
  ] as const)('deeply nested JSON: %s', (_, text, code) => {
    const r = parseTradeBytes(Buffer.from(text));
    expect(r.ok || r.code).toBe(code);
  });

  it('a 10 MB record is refused by its size before any parsing', () => {
    // Not JSON past its first bytes: had it been parsed first, the reason would be invalid_json.
    const big = Buffer.from(`{"trade_id":"${'x'.repeat(10 * 1024 * 1024)}`);
    const r = parseTradeBytes(big);
    expect(r.ok || r.code).toBe('too_large');
    expect(!r.ok && r.reason).toBe(`record of ${big.length} bytes exceeds 65536`);
  });

  it.each([
    ['volume 2^31', '{"trade_id":"x","ticker":"A","price":"1","volume":2147483648,"trade_timestamp":"2026-11-25T00:00:00Z"}', 'invalid_volume'],
    ['volume 2^53+1', '{"trade_id":"x","ticker":"A","price":"1","volume":9007199254740993,"trade_timestamp":"2026-11-25T00:00:00Z"}', 'invalid_volume'],
    ['negative volume', '{"trade_id":"x","ticker":"A","price":"1","volume":-5,"trade_timestamp":"2026-11-25T00:00:00Z"}', 'invalid_volume'],
    ['volume -0', '{"trade_id":"x","ticker":"A","price":"1","volume":-0,"trade_timestamp":"2026-11-25T00:00:00Z"}', 'invalid_volume'],
    ['price 1e400 as a number', '{"trade_id":"x","ticker":"A","price":1e400,"trade_timestamp":"2026-11-25T00:00:00Z","volume":1}', 'invalid_price'],
    ['price 1e400 as text', '{"trade_id":"x","ticker":"A","price":"1e400","trade_timestamp":"2026-11-25T00:00:00Z","volume":1}', 'invalid_price'],
    [
      'price beyond NUMERIC(10,4)',
      '{"trade_id":"x","ticker":"A","price":"12345678.1234","volume":1,"trade_timestamp":"2026-11-25T00:00:00Z"}',
      'invalid_price',
    ],
    ['price 1e-400', '{"trade_id":"x","ticker":"A","price":1e-400,"volume":1,"trade_timestamp":"2026-11-25T00:00:00Z"}', 'invalid_price'],
    [
      'price with 400 digits',
      `{"trade_id":"x","ticker":"A","price":"${'9'.repeat(400)}","volume":1,"trade_timestamp":"2026-11-25T00:00:00Z"}`,
      'invalid_price',
    ],
    ['price "NaN"', '{"trade_id":"x","ticker":"A","price":"NaN","volume":1,"trade_timestamp":"2026-11-25T00:00:00Z"}', 'invalid_price'],
    ['price "Infinity"', '{"trade_id":"x","ticker":"A","price":"Infinity","volume":1,"trade_timestamp":"2026-11-25T00:00:00Z"}', 'invalid_price'],
    ['price "-0"', '{"trade_id":"x","ticker":"A","price":"-0","volume":1,"trade_timestamp":"2026-11-25T00:00:00Z"}', 'invalid_price'],
    ['price "0x10"', '{"trade_id":"x","ticker":"A","price":"0x10","volume":1,"trade_timestamp":"2026-11-25T00:00:00Z"}', 'invalid_price'],
    ['price " 1"', '{"trade_id":"x","ticker":"A","price":" 1","volume":1,"trade_timestamp":"2026-11-25T00:00:00Z"}', 'invalid_price'],
    ['bare NaN is not JSON', '{"trade_id":"x","ticker":"A","price":NaN,"volume":1,"trade_timestamp":"2026-11-25T00:00:00Z"}', 'invalid_json'],
    ['epoch 1e400', '{"trade_id":"x","ticker":"A","price":"1","volume":1,"trade_timestamp":1e400}', 'invalid_timestamp'],
    ['year 275760', '{"trade_id":"x","ticker":"A","price":"1","volume":1,"trade_timestamp":"+275760-09-13T00:00:00Z"}', 'invalid_timestamp'],
    [
      'ticker with SQL',
      `{"trade_id":"x","ticker":"'; DROP TABLE stock_trades;--","price":"1","volume":1,"trade_timestamp":"2026-11-25T00:00:00Z"}`,
      'invalid_ticker',
    ],
    [
      'ticker with <script>',
      '{"trade_id":"x","ticker":"<script>alert(1)</script>","price":"1","volume":1,"trade_timestamp":"2026-11-25T00:00:00Z"}',
      'invalid_ticker',
    ],
    [
      'ticker with <img onerror>',
      '{"trade_id":"x","ticker":"<img src=x onerror=alert(1)>","price":"1","volume":1,"trade_timestamp":"2026-11-25T00:00:00Z"}',
      'invalid_ticker',
    ],
    ['ticker with a NUL', '{"trade_id":"x","ticker":"A\\u0000","price":"1","volume":1,"trade_timestamp":"2026-11-25T00:00:00Z"}', 'invalid_ticker'],
    ['ticker with a full-width letter', '{"trade_id":"x","ticker":"ＡAPL","price":"1","volume":1,"trade_timestamp":"2026-11-25T00:00:00Z"}', 'invalid_ticker'],
  ] as const)('out of range or hostile: %s', (_, text, code) => {
    const r = parseTradeBytes(Buffer.from(text));
    expect(r.ok || r.code).toBe(code);
  });

  it.each([
    ['9999-12-30T23:59:59.999Z', true],
    ['9999-12-31T00:00:00Z', false],
    ['9999-12-31T23:59:59.999Z', false],
    ['9999-12-31T01:00:00+02:00', true],
    [MAX_EVENT_TIME_MS, true],
    [MAX_EVENT_TIME_MS + 1, false],
  ] as const)('the last accepted event time leaves its candle window inside year 9999: %s', (ts, accepted) => {
    const r = parseTradeText(line({ ...valid, trade_timestamp: ts }));
    expect(r.ok || r.code).toBe(accepted ? true : 'invalid_timestamp');
  });

  it('duplicate keys: the last one wins, as JSON.parse and Flink read them', () => {
    const r = parseTradeText('{"trade_id":"x","ticker":"A","price":"1","price":"2","volume":1,"volume":7,"trade_timestamp":"2026-11-25T00:00:00Z"}');
    expect(r.ok === true && [r.trade.priceE4, r.trade.volume]).toEqual([20_000, 7]);
    const bad = parseTradeText('{"trade_id":"x","ticker":"A","price":"1","volume":1,"volume":0,"trade_timestamp":"2026-11-25T00:00:00Z"}');
    expect(bad.ok || bad.code).toBe('invalid_volume');
  });

  it('__proto__ in a record is an ordinary key: no field is read through it, nothing is polluted', () => {
    const inner = JSON.stringify(valid);
    const r = parseTradeText(`{"__proto__":${inner}}`);
    expect(r.ok || r.code).toBe('missing_field');
    const r2 = parseTradeText(`{"__proto__":{"polluted":1},${inner.slice(1)}`);
    expect(r2.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a trade_id with SQL or HTML is data: accepted verbatim (stored through parameters, shown as text)', () => {
    for (const id of ["'; DROP TABLE stock_trades;--", '<script>alert(1)</script>', '<img src=x onerror=alert(1)>']) {
      const r = parseTradeText(line({ ...valid, trade_id: id }));
      expect(r.ok === true && r.trade.tradeId).toBe(id);
    }
  });

  it('refuses invalid UTF-8', () => {
    const r = parseTradeBytes(Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]));
    expect(r.ok || r.code).toBe('invalid_utf8');
  });
});

describe('parser properties', () => {
  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const r = parseTradeBytes(bytes);
        expect(typeof r.ok).toBe('boolean');
        if (!r.ok) expect(r.reason).not.toMatch(/[\u0000-\u001f\u007f]/);
      }),
      { numRuns: 20_000 },
    );
  });

  it('never throws on arbitrary strings (any UTF-16, lone surrogates included)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 300 })), (s) => {
        const r = parseTradeText(s);
        expect(typeof r.ok).toBe('boolean');
        if (!r.ok) {
          expect(r.reason.length).toBeGreaterThan(5);
          // Reasons land in a text column, a Kafka header and a terminal.
          expect(r.reason).not.toMatch(/[\u0000-\u001f\u007f]/);
        }
      }),
      { numRuns: 20_000 },
    );
  });

  it('never throws on a valid record with its bytes flipped, cut or spliced', () => {
    fc.assert(
      fc.property(editedRecord(Buffer.from(line(valid)), 6), (b) => {
        const r = parseTradeBytes(b);
        expect(typeof r.ok).toBe('boolean');
        // Whatever is accepted is a valid trade by the contract's own rules.
        if (r.ok === true) {
          expect(r.trade.ticker).toMatch(/^[A-Z0-9.-]{1,10}$/);
          expect(r.trade.volume).toBeGreaterThanOrEqual(1);
          expect(r.trade.priceE4).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 20_000 },
    );
  });

  it('never throws on arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const r = parseTradeText(JSON.stringify(v));
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 20_000 },
    );
  });

  it('never throws on near-valid records with arbitrary field values', () => {
    const field = fc.oneof(fc.string(), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.jsonValue());
    fc.assert(
      fc.property(field, field, field, field, field, (a, b, c, d, e) => {
        const r = parseTradeText(JSON.stringify({ trade_id: a, ticker: b, price: c, volume: d, trade_timestamp: e }));
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 20_000 },
    );
  });

  const trade = fc.record({
    tradeId: fc.string({ minLength: 1, maxLength: 255 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s)),
    ticker: fc.stringMatching(/^[A-Z0-9.-]{1,10}$/),
    priceE4: fc.integer({ min: 1, max: 9_999_999_999 }),
    volume: fc.integer({ min: 1, max: 2_147_483_647 }),
    tsMs: fc.integer({ min: 0, max: MAX_EVENT_TIME_MS }),
  });

  it('valid events round-trip exactly through the wire form', () => {
    fc.assert(
      fc.property(trade, (t) => {
        const r = parseTradeText(JSON.stringify(tradeToJson(t)));
        expect(r).toEqual({ ok: true, trade: t });
      }),
      { numRuns: 20_000 },
    );
  });

  it('reads any price text exactly (no float on the way)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9_999_999_999 }), (e4) => {
        const r = parseTradeText(line({ ...valid, price: formatPriceE4(e4) }));
        expect(r.ok === true && r.trade.priceE4).toBe(e4);
      }),
      { numRuns: 20_000 },
    );
  });

  it('agrees with Date for every ISO timestamp it accepts', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date(0), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }),
        fc.integer({ min: -14 * 60, max: 14 * 60 }),
        (d, offsetMin) => {
          // Render the instant in a random zone, then read it back.
          const local = new Date(d.getTime() + offsetMin * 60_000).toISOString().slice(0, 23);
          const sign = offsetMin < 0 ? '-' : '+';
          const abs = Math.abs(offsetMin);
          const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          const r = parseTradeText(line({ ...valid, trade_timestamp: local + zone }));
          if (r.ok === true) expect(r.trade.tsMs).toBe(d.getTime());
          else expect(r.ok === false && r.code).toBe('invalid_timestamp'); // only out-of-range renderings may be refused
        },
      ),
      { numRuns: 20_000 },
    );
  });
});

describe('reasons are engine-neutral text', () => {
  it('names bad JSON without quoting the JavaScript engine, and never carries a lone surrogate', () => {
    expect(parseTradeText('{} x')).toEqual({ ok: false, code: 'invalid_json', reason: 'record is not valid JSON' });
    expect(parseTradeText(' \t\r\n')).toEqual({ ok: false, code: 'invalid_json', reason: 'record is empty' });
    const r = parseTradeText('{"trade_id":"x","ticker":"A\\ud800","price":"1","volume":1,"trade_timestamp":"2026-11-25T00:00:00Z"}');
    expect(r).toEqual({ ok: false, code: 'invalid_ticker', reason: 'ticker "A\ufffd" must be 1-10 of A-Z 0-9 . -' });
  });
});
