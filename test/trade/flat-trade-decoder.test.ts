import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Market } from '../../src/simulate/market.ts';
import { decodeFlatTradeBytes, decodeFlatTradeRange, decodeFlatTradeText } from '../../src/trade/flat-trade-decoder.ts';
import { DEFAULT_MAX_RECORD_BYTES, parseTradeBytes, parseTradeBytesReference, parseTradeText, parseTradeTextReference } from '../../src/trade/parse.ts';
import { tradeToJson } from '../../src/trade/trade.ts';
import { editedRecord } from '../support/trade-arbitraries.ts';

/**
 * The fast decoder is an optimisation, never a second opinion: for every input, parseTradeBytes
 * and parseTradeText must give exactly what the reference parser gives (code, reason, fields).
 */
function sameAsReference(input: Uint8Array | string, maxBytes = DEFAULT_MAX_RECORD_BYTES): boolean {
  if (typeof input === 'string') {
    expect(parseTradeText(input, maxBytes)).toStrictEqual(parseTradeTextReference(input, maxBytes));
    return decodeFlatTradeText(input, maxBytes) !== null;
  }
  expect(parseTradeBytes(input, maxBytes)).toStrictEqual(parseTradeBytesReference(input, maxBytes));
  const fast = decodeFlatTradeBytes(input, maxBytes);
  // The same bytes amid others in one buffer, read in place: bytes outside the range would make
  // a record of their own invalid, or this one, if the decoder read past either end.
  const framed = Buffer.concat([BEFORE, input, AFTER]);
  expect(decodeFlatTradeRange(framed, BEFORE.length, BEFORE.length + input.length, maxBytes)).toStrictEqual(fast);
  return fast !== null;
}

const BEFORE = Buffer.from('{"trade_id":"x","ticker":"A",');
const AFTER = Buffer.from(',"price":"1"}\n');

/** Both entry points: the bytes, and the text the bytes decode to. */
function bothSameAsReference(bytes: Uint8Array, maxBytes = DEFAULT_MAX_RECORD_BYTES): boolean {
  const a = sameAsReference(bytes, maxBytes);
  const b = sameAsReference(Buffer.from(bytes).toString('utf8'), maxBytes);
  return a || b;
}

const valid = { trade_id: 't-1', ticker: 'AAPL', price: '187.2300', volume: 1200, trade_timestamp: '2026-11-25T06:01:02.123Z' };

describe('the fast decoder takes the common shape', () => {
  it('decodes every simulator record itself, as the reference reads it', () => {
    const m = new Market({ seed: 3 });
    for (let i = 0; i < 2_000; i++) {
      const line = JSON.stringify(tradeToJson(m.next(Date.UTC(2026, 10, 25) + i * 137)));
      expect(sameAsReference(line)).toBe(true);
      expect(sameAsReference(Buffer.from(line))).toBe(true);
    }
  });

  it.each([
    ['price as a number', '{"trade_id":"a","ticker":"A","price":187.23,"volume":1,"trade_timestamp":"2026-11-25T06:01:02Z"}'],
    ['epoch milliseconds', '{"trade_id":"a","ticker":"A","price":"1","volume":1,"trade_timestamp":1764050462123}'],
    ['the seed alias', '{"trade_id":"a","ticker":"A","price":"1","volume":1,"timestamp":"2026-11-25T06:01:02+01:00"}'],
    [
      'keys in another order, with whitespace',
      ' { "volume" : 5 ,\t"price":"0.0001",\r\n"trade_timestamp":"2026-11-25 06:01:02.5-0500","ticker":"BRK.B-2026","trade_id":"x y"}\n',
    ],
    ['a 16-character id from bytes', '{"trade_id":"0123456789abcdef","ticker":"A","price":"1","volume":1,"trade_timestamp":"2026-11-25T06:01:02z"}'],
  ])('%s', (_, line) => {
    expect(sameAsReference(line)).toBe(true);
    expect(sameAsReference(Buffer.from(line))).toBe(true);
  });

  it.each([
    ['an escape in the id', '{"trade_id":"a\\u0041","ticker":"A","price":"1","volume":1,"trade_timestamp":"2026-11-25T06:01:02Z"}'],
    ['a non-ASCII id', '{"trade_id":"é","ticker":"A","price":"1","volume":1,"trade_timestamp":"2026-11-25T06:01:02Z"}'],
    ['a duplicate key', '{"trade_id":"a","ticker":"A","price":"1","price":"2","volume":1,"trade_timestamp":"2026-11-25T06:01:02Z"}'],
    ['an extra key', '{"trade_id":"a","ticker":"A","price":"1","volume":1,"trade_timestamp":"2026-11-25T06:01:02Z","x":1}'],
    ['a volume written as 1.0', '{"trade_id":"a","ticker":"A","price":"1","volume":1.0,"trade_timestamp":"2026-11-25T06:01:02Z"}'],
    ['a price with an exponent', '{"trade_id":"a","ticker":"A","price":1e2,"volume":1,"trade_timestamp":"2026-11-25T06:01:02Z"}'],
    [
      'a price with five decimals of which the last is zero',
      '{"trade_id":"a","ticker":"A","price":"1.00010","volume":1,"trade_timestamp":"2026-11-25T06:01:02Z"}',
    ],
  ])('hands %s to the reference (which may still accept it)', (_, line) => {
    expect(sameAsReference(line)).toBe(false);
    expect(sameAsReference(Buffer.from(line))).toBe(false);
  });
});

// ---- generated records: every field in shapes the fast path takes and shapes it must refuse ----

// Mostly what the fast path takes, often enough what it must hand over or what is not JSON at all.
const likely = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>): fc.Arbitrary<T> => fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: bad });
// A record has about 20 gaps; one that is not JSON whitespace in a few percent of them.
const ws = fc.oneof(
  { weight: 60, arbitrary: fc.constantFrom('', '', '', '', ' ', '\t', '\n', '\r\n', '  ') },
  { weight: 1, arbitrary: fc.constantFrom('\u00a0', '\f', '\u2028', '\v') },
);
const digitsArb = (min: number, max: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom('0', '1', '2', '5', '9'), { minLength: min, maxLength: max }).map((d) => d.join(''));
const quoted = (s: fc.Arbitrary<string>): fc.Arbitrary<string> => s.map((x) => `"${x}"`);

const decimalText = fc.oneof(
  fc.tuple(digitsArb(1, 8), fc.option(digitsArb(0, 6), { nil: undefined })).map(([w, f]) => (f === undefined ? w : `${w}.${f}`)),
  fc.constantFrom(
    '0',
    '0.0',
    '-1',
    '+1',
    '1e3',
    '1E-2',
    '1.5e0',
    '.5',
    '1.',
    'NaN',
    'Infinity',
    '0x10',
    ' 1',
    '1 ',
    '-0',
    '00',
    '01.5',
    '1000000',
    '999999.9999',
  ),
);
const goodPrice = fc.tuple(fc.integer({ min: 1, max: 9_999_999_999 }), fc.nat(4), fc.boolean()).map(([e4, trim, asNumber]) => {
  let t = `${Math.trunc(e4 / 10_000)}.${String(e4 % 10_000).padStart(4, '0')}`.slice(0, 11 - trim);
  if (t.endsWith('.')) t = t.slice(0, -1);
  return asNumber ? String(Number(t)) : `"${t}"`;
});
const priceValue = likely(
  goodPrice,
  fc.oneof(
    quoted(decimalText),
    decimalText,
    fc.double({ noNaN: true }).map((x) => JSON.stringify(x)),
    fc.constantFrom('null', 'true', '[]', '{}', '"187.23"', '187.23', '1.23456', '"1.23456"'),
  ),
);

const integerText = likely(
  fc.integer({ min: 1, max: 2_147_483_647 }).map(String),
  fc.oneof(
    fc.integer({ min: -5, max: 3_000_000_000 }).map(String),
    fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String),
    fc.constantFrom('0', '-0', '1.0', '1e3', '1E0', '01', '2147483647', '2147483648', '1.5', '4294967297', 'null', '"5"', '[]', '1 2'),
  ),
);

const twoDigits = (max: number): fc.Arbitrary<string> => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'));
const isoText = fc
  .tuple(
    fc.oneof(fc.integer({ min: 1960, max: 2100 }), fc.integer({ min: 0, max: 9999 })).map((y) => String(y).padStart(4, '0')),
    twoDigits(13),
    twoDigits(32),
    fc.constantFrom('T', ' ', 't', 'x'),
    twoDigits(25),
    twoDigits(61),
    twoDigits(61),
    fc.option(
      fc.tuple(fc.constantFrom('.', ','), digitsArb(0, 11)).map(([s, d]) => s + d),
      { nil: '' },
    ),
    fc.oneof(
      fc.constantFrom('Z', 'z', '', 'Zx', '+', '-', 'UTC'),
      fc.tuple(fc.constantFrom('+', '-'), twoDigits(20), fc.constantFrom(':', '', '-'), fc.oneof(twoDigits(61), fc.constant(''))).map((p) => p.join('')),
    ),
  )
  .map(([y, mo, d, sep, h, mi, s, frac, zone]) => `${y}-${mo}-${d}${sep}${h}:${mi}:${s}${frac}${zone}`);
const goodIso = fc
  .tuple(fc.date({ min: new Date(0), max: new Date('9999-12-30T00:00:00Z'), noInvalidDate: true }), fc.constantFrom(0, 0, 60, -300, 330, -720), fc.nat(4))
  .map(([d, off, digits]) => {
    const local = new Date(d.getTime() + off * 60_000).toISOString();
    const frac = digits === 0 ? '' : `.${local.slice(20, 23)}${'000000'.slice(0, Math.max(0, digits - 3))}`.slice(0, digits + 1);
    const zone =
      off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}:${String(Math.abs(off) % 60).padStart(2, '0')}`;
    return `"${local.slice(0, 19)}${frac}${zone}"`;
  });
const timestampValue = likely(
  fc.oneof(goodIso, fc.integer({ min: 0, max: 253_402_214_399_999 }).map(String)),
  fc.oneof(
    quoted(isoText),
    quoted(fc.date({ min: new Date(-1e12), max: new Date(2.6e14), noInvalidDate: true }).map((d) => d.toISOString())),
    integerText,
    fc.constantFrom('"9999-12-30T23:59:59.999Z"', '"9999-12-31T00:00:00Z"', '253402214399999', '253402214400000', '1.5', '"2026-11-25"'),
  ),
);

const idChars = fc.oneof(
  fc.string({ minLength: 0, maxLength: 20, unit: fc.constantFrom('a', 'Z', '0', '-', ' ', '~', '\u007f', '"', '\\', 'é', '\u{1F600}', '\u0000') }),
  fc.string({ minLength: 250, maxLength: 260, unit: fc.constantFrom('a', 'b') }),
  fc.string({ maxLength: 30 }),
);
const idValue = likely(
  fc.stringMatching(/^[ !#-[\]-~]{1,24}$/).map((s) => `"${s}"`),
  fc.oneof(
    idChars.map((s) => JSON.stringify(s)),
    idChars.map((s) => `"${s}"`), // unescaped: quotes and backslashes break or escape the string
    fc.constantFrom('7', 'null', '""', '"a\\ud800"', '"\\u0041"', '["a"]'),
  ),
);
const tickerValue = likely(
  fc.stringMatching(/^[A-Z0-9.-]{1,10}$/).map((s) => `"${s}"`),
  fc.oneof(
    fc.stringMatching(/^[A-Z0-9.-]{0,12}$/).map((s) => `"${s}"`),
    fc.string({ maxLength: 12, unit: fc.constantFrom('A', 'a', '.', '-', '9', '_', ' ', 'Ａ', '\\') }).map((s) => `"${s}"`),
    fc.constantFrom('1', 'null', '"AAPL"', '"A\\u0041"'),
  ),
);

const KEYS = ['trade_id', 'ticker', 'price', 'volume', 'trade_timestamp'] as const;
const record = fc
  .record({
    trade_id: idValue,
    ticker: tickerValue,
    price: priceValue,
    volume: integerText,
    trade_timestamp: timestampValue,
    order: likely(fc.shuffledSubarray([...KEYS], { minLength: 5, maxLength: 5 }), fc.shuffledSubarray([...KEYS], { minLength: 3, maxLength: 5 })).chain(
      (keys) => fc.oneof({ weight: 8, arbitrary: fc.constant(keys) }, fc.constant([...keys, keys[0]!]), fc.constant([...keys, 'extra'])),
    ),
    alias: fc.constantFrom('none', 'none', 'none', 'alias-only', 'both'),
    ws: fc.array(ws, { minLength: 40, maxLength: 40 }),
    tail: likely(fc.constantFrom('', ' ', '\n'), fc.constantFrom(',', '}', 'x', '\u0000')),
  })
  .map((r) => {
    let w = 0;
    const sp = (): string => r.ws[w++ % r.ws.length]!;
    const fields: string[] = [];
    for (const k of r.order) {
      if (k === 'trade_timestamp' && r.alias === 'alias-only') fields.push(`${sp()}"timestamp"${sp()}:${sp()}${r.trade_timestamp}${sp()}`);
      else if (k === 'extra') fields.push(`"extra":${sp()}1`);
      else fields.push(`${sp()}"${k}"${sp()}:${sp()}${r[k as keyof typeof r]}${sp()}`);
    }
    if (r.alias === 'both') fields.push(`"timestamp":${r.trade_timestamp}`);
    return `${sp()}{${fields.join(',')}}${sp()}${r.tail}`;
  });

describe('fast path ≡ reference path', () => {
  it('on generated records (any key order, whitespace, alias, duplicates, every value shape)', () => {
    let fast = 0;
    fc.assert(
      fc.property(record, (line) => {
        if (bothSameAsReference(Buffer.from(line))) fast++;
      }),
      { numRuns: 30_000 },
    );
    // The comparison is only worth something if the fast path decides a good share of them.
    expect(fast).toBeGreaterThan(1_000);
  });

  it('on valid records with their bytes flipped, cut or spliced', () => {
    fc.assert(
      fc.property(editedRecord(Buffer.from(JSON.stringify(valid)), 4), (b) => {
        bothSameAsReference(b);
      }),
      { numRuns: 30_000 },
    );
  });

  it('on arbitrary bytes and strings (lone surrogates included)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => void bothSameAsReference(b)),
      { numRuns: 10_000 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 200 })), (s) => void sameAsReference(s)),
      { numRuns: 10_000 },
    );
  });

  it('on timestamps sharing the minute of the one before (the decoder keeps the last minute it read)', () => {
    const minute = '2026-11-25T06:01';
    const rest = fc.oneof(
      fc.constantFrom(':02.123Z', ':59.999Z', ':60.000Z', ':00Z', ':7.1Z', '02.123Z', ':02.123+01:00', ':02,5-0530', ':02.1234567891Z', ':0a.000Z', ':02.123'),
      fc.string({ unit: fc.constantFrom(...':0123456789.,+-Zz'.split('')), maxLength: 14 }),
    );
    let fast = 0;
    fc.assert(
      fc.property(rest, fc.constantFrom(minute, '2026-11-25T06:02', '2026-02-29T06:01', '2026-11-25 06:01'), (tail, first) => {
        // The minute is read from a valid record first, then a record with the same first
        // 16 characters and any ending: both must still be exactly what the reference says.
        bothSameAsReference(Buffer.from(JSON.stringify({ ...valid, trade_timestamp: `${first}:00.000Z` })));
        if (bothSameAsReference(Buffer.from(JSON.stringify({ ...valid, trade_timestamp: `${first}${tail}` })))) fast++;
      }),
      { numRuns: 5_000 },
    );
    expect(fast).toBeGreaterThan(100);
  });

  it('at and around the size cap, in bytes and in characters', () => {
    const line = JSON.stringify(valid);
    for (let cap = line.length - 3; cap <= line.length + 3; cap++) bothSameAsReference(Buffer.from(line), cap);
    const wide = JSON.stringify({ ...valid, trade_id: 'x'.repeat(200) });
    for (const cap of [wide.length - 1, wide.length, 1024, 1100]) bothSameAsReference(Buffer.from(wide), cap);
    const long = JSON.stringify({ ...valid, pad: 'x'.repeat(2_000) });
    bothSameAsReference(Buffer.from(long));
  });
});

describe('fast path ≡ reference path on the JSON conformance corpus (JSONTestSuite, test/fixtures)', () => {
  const dir = fileURLToPath(new URL('../fixtures/json-test-suite/test_parsing/', import.meta.url));
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  const corpus = files.map((f) => [f, readFileSync(join(dir, f))] as const);

  it('has the corpus', () => {
    expect(files.length).toBeGreaterThan(300);
  });

  it('each document as a whole record', () => {
    for (const [, bytes] of corpus) bothSameAsReference(bytes);
  });

  it('each document as the value of every field, and as the record around a valid one', () => {
    const line = Buffer.from(JSON.stringify(valid));
    for (const [, doc] of corpus) {
      for (const key of [...KEYS, 'timestamp']) {
        const fields = KEYS.filter((k) => k !== key).map((k) => Buffer.from(`${JSON.stringify(k)}:${JSON.stringify(valid[k])},`));
        bothSameAsReference(Buffer.concat([Buffer.from('{'), ...fields, Buffer.from(`"${key}":`), doc, Buffer.from('}')]));
      }
      bothSameAsReference(Buffer.concat([line.subarray(0, line.length - 1), Buffer.from(',"x":'), doc, Buffer.from('}')]));
      bothSameAsReference(Buffer.concat([line, doc]));
      bothSameAsReference(Buffer.concat([doc, line]));
    }
  });
});
