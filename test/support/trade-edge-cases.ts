/**
 * Hand-written trade records that every parser of ours must read exactly as src/trade/parse.ts
 * does: the Flink SQL validation test (test/flink/validation.test.ts) and the Java parser's
 * conformance test (test/flink/parser-conformance.test.ts) both run them.
 */
import { dirtyFeed } from '../../src/simulate/dirty-feed.ts';

export const valid = { trade_id: 't-1', ticker: 'AAPL', price: '187.2300', volume: 1200, trade_timestamp: '2026-11-25T06:01:02.123Z' };
export const j = (o: Record<string, unknown>): string => JSON.stringify(o);
const { trade_timestamp: _drop, ...noTs } = valid;

/** A valid record with `raw` (JSON text, not necessarily valid) as the value of `field`. */
export const withRaw = (field: string, raw: string): string => {
  const o: Record<string, unknown> = { ...valid };
  delete o[field];
  return `{${Object.entries(o).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')},${JSON.stringify(field)}:${raw}}`;
};

/** The valid record's members as raw `"key":value` text, for records assembled by hand. */
const member = {
  id: '"trade_id":"t-1"',
  ticker: '"ticker":"AAPL"',
  price: '"price":"187.2300"',
  volume: '"volume":1200',
  ts: '"trade_timestamp":"2026-11-25T06:01:02.123Z"',
};
const record = (...members: string[]): string => `{${members.join(',')}}`;
const rest = (...except: (keyof typeof member)[]): string[] => Object.entries(member).filter(([k]) => !except.includes(k as keyof typeof member)).map(([, v]) => v);

const bytes = (...parts: (string | number[])[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
const validText = j(valid);

/** Invalid UTF-8 (and valid 4-byte) sequences inside an otherwise valid trade_id. */
const inTradeId = (seq: number[]): Buffer => bytes('{"trade_id":"a', seq, `b",${rest('id').join(',')}}`);

const original: (string | Buffer)[] = [
  ...[...dirtyFeed({ seed: 11, count: 60, startMs: Date.UTC(2026, 10, 25, 14, 0, 0), malformed: 0.4, aliasTimestamp: 0.3 })],
  j({ ...valid, price: 187.23 }), j({ ...valid, price: '187.2' }), j({ ...valid, price: '5' }), j({ ...valid, price: '1.230000' }),
  j({ ...valid, price: '0.0001' }), j({ ...valid, price: '999999.9999' }), j({ ...valid, price: '1000000' }), j({ ...valid, price: '0' }),
  j({ ...valid, price: '00001.5' }), j({ ...valid, price: '1.00001' }), j({ ...valid, price: '1.' }), j({ ...valid, price: '.5' }),
  j({ ...valid, price: 0.1 + 0.2 }), j({ ...valid, price: 1e-7 }), j({ ...valid, price: 5 }), j({ ...valid, price: true }), j({ ...valid, price: '1.5\n' }),
  j({ ...noTs, timestamp: '2026-11-25T06:01:02.123Z' }), j({ ...valid, trade_timestamp: 1_764_050_462_123 }),
  j({ ...valid, trade_timestamp: '2026-11-25T07:01:02+01:00' }), j({ ...valid, trade_timestamp: '2026-11-25T01:01:02.5-0500' }),
  j({ ...valid, trade_timestamp: '2026-11-25 06:01:02Z' }), j({ ...valid, trade_timestamp: '2026-11-25T06:01:02.123999Z' }),
  j({ ...valid, trade_timestamp: '2028-02-29T00:00:00Z' }), j({ ...valid, trade_timestamp: '2027-02-29T00:00:00Z' }),
  j({ ...valid, trade_timestamp: '2000-02-29T00:00:00Z' }), j({ ...valid, trade_timestamp: '2100-02-29T00:00:00Z' }),
  j({ ...valid, trade_timestamp: '2026-11-25T06:01:02-00:30' }), j({ ...valid, trade_timestamp: '2026-11-25T06:01:02+19:00' }),
  j({ ...valid, trade_timestamp: '1969-12-31T23:59:59Z' }), j({ ...valid, trade_timestamp: '1970-01-01T00:30:00+01:00' }),
  j({ ...valid, trade_timestamp: '2026-11-25T24:00:00Z' }), j({ ...valid, trade_timestamp: '2026-11-25T06:01:02' }),
  j({ ...valid, trade_timestamp: 1.5 }), j({ ...valid, trade_timestamp: -1 }), j({ ...valid, timestamp: 'garbage' }),
  j({ ...valid, trade_timestamp: null, timestamp: '2026-11-25T06:01:02Z' }), j({ ...valid, trade_timestamp: {} }),
  j({ ...valid, volume: 2_147_483_647 }), j({ ...valid, volume: 2_147_483_648 }), j({ ...valid, volume: 10.0 }), j({ ...valid, volume: 10.5 }),
  j({ ...valid, volume: '5' }), j({ ...valid, volume: 0 }), j({ ...valid, ticker: 'BRK.B-2026' }), j({ ...valid, ticker: 'TOOLONGTICK' }),
  j({ ...valid, ticker: 'aapl' }), j({ ...valid, ticker: 123 }), j({ ...valid, ticker: 'AAPL\n' }), j({ ...valid, trade_id: '' }),
  j({ ...valid, trade_id: 'x'.repeat(255) }), j({ ...valid, trade_id: 'x'.repeat(256) }), j({ ...valid, trade_id: 'tab\tid' }),
  j({ ...valid, trade_id: 42 }), j({ ...valid, trade_id: 'é ü 日本' }), j({ ...valid, ticker: null }), j({ ...valid, extra: [1, { a: 2 }] }),
  '', '   ', 'hello', '[1,2]', '"str"', '42', 'null', '{"trade_id":"x",', `${j(valid)} x`,
  `{"a":"${'x'.repeat(70_000)}"}`,
  Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from(j(valid))]),
];

const smile = '\u{1F600}';

/** Trade ids counted in characters (code points), not UTF-16 units; lone surrogates; control characters. */
const tradeIds: string[] = [
  j({ ...valid, trade_id: smile.repeat(255) }), // 510 units, 255 characters: accepted
  j({ ...valid, trade_id: smile.repeat(256) }), // 512 units: refused by the cheap length test
  j({ ...valid, trade_id: `${smile.repeat(110)}${'x'.repeat(40)}` }), // 150 characters in 260 units
  j({ ...valid, trade_id: `${smile.repeat(255)}x` }), // 511 units
  j({ ...valid, trade_id: `${'x'.repeat(254)}${smile}` }), // 255 characters in 256 units
  j({ ...valid, trade_id: `${'x'.repeat(255)}${smile}` }), // 256 characters in 257 units
  j({ ...valid, trade_id: `${smile.repeat(200)}${'x'.repeat(56)}` }), // 256 characters in 456 units
  j({ ...valid, trade_id: `a${'\u{1D11E}'.repeat(254)}` }),
  j({ ...valid, trade_id: '\u{10FFFF}' }),
  withRaw('trade_id', '"a\\ud800b"'), withRaw('trade_id', '"\\udc00"'), withRaw('trade_id', '"x\\ud83d"'),
  withRaw('trade_id', '"\\ude00\\ud83d"'), withRaw('trade_id', '"\\ud83d\\ude00"'), withRaw('trade_id', '"\\uD83D\\uDE00"'),
  withRaw('trade_id', `"${'\\ud800'.repeat(255)}"`), withRaw('trade_id', `"${'\\ud800'.repeat(256)}"`),
  withRaw('trade_id', `"${'\\ud83d\\ude00'.repeat(255)}"`), withRaw('trade_id', `"${'\\ud83d\\ude00'.repeat(255)}\\ud800"`),
  withRaw('trade_id', '"a\\u0000b"'), withRaw('trade_id', '"\\u007f"'), withRaw('trade_id', '"\\u001F"'), withRaw('trade_id', '"a\\u0000\\ud800"'),
  withRaw('trade_id', '"\\u0080\\u2028\\u2029\\ufeff"'), withRaw('trade_id', '"a\\/b\\\\c\\"d\\b\\f"'), withRaw('trade_id', '"\\n"'),
  withRaw('trade_id', '"\u2028 raw line separator"'), withRaw('trade_id', '"\u007f"'),
  withRaw('trade_id', 'true'), withRaw('trade_id', 'false'), withRaw('trade_id', '[]'), withRaw('trade_id', '{}'), withRaw('trade_id', '0'),
];

/** Tickers, and reasons that quote them: clipped at 40 UTF-16 units, control characters escaped, surrogates mended. */
const tickers: string[] = [
  withRaw('ticker', '"A\\ud800"'), withRaw('ticker', '"\\udfff"'), withRaw('ticker', '"\\u0000"'), withRaw('ticker', '"\\u0000\\u001f\\u007f\\u0080"'),
  withRaw('ticker', `"${'x'.repeat(39)}${smile}tail"`), withRaw('ticker', `"${'x'.repeat(38)}${smile}tail"`), withRaw('ticker', `"${'x'.repeat(40)}"`),
  withRaw('ticker', `"${'x'.repeat(41)}"`), withRaw('ticker', `"${'\\u0001'.repeat(45)}"`), withRaw('ticker', `"${'x'.repeat(39)}\\ud83d\\ude00"`),
  withRaw('ticker', '"A\\/B"'), withRaw('ticker', '"\\u0041\\u0041PL"'), withRaw('ticker', '"ABCDEFGHIJ"'), withRaw('ticker', '"AB CD"'),
  withRaw('ticker', '"AAPL\\n"'), withRaw('ticker', '"\\nAAPL"'), withRaw('ticker', `"${smile}"`), withRaw('ticker', '"Ａ"'), withRaw('ticker', '""'),
  withRaw('ticker', '"AAPL"  '), withRaw('ticker', '["AAPL"]'), withRaw('ticker', 'false'), withRaw('ticker', '1e2'),
  withRaw('ticker', '"\\"quoted\\""'), withRaw('ticker', '"back\\\\slash"'), withRaw('ticker', '"\u00e9\u65e5"'),
];

/** JSON number texts as prices: the double JSON.parse makes, then String(x) as decimal.ts reads it. */
const priceNumbers = [
  '1E2', '1e2', '1.0', '1.00000', '-0', '0', '-0.0', '0e10', '1e999', '-1e999', '5e-324', '-5e-324', '0.30000000000000004',
  '1.23456789012345678', '999999.99995', '999999.9999', '999999.99999', '999999.999999999', '1000000', '1e6', '999999.9999999999',
  '0.0001', '1e-4', '0.00005', '5e-5', '1e-5', '0.000001', '1e-6', '1e-7', '0.0000001', '9.999e-7', '123.4567', '123.45678',
  '187.23', '187.2300000000001', '0.1', '0.2', '1.7976931348623157e308', '2.2250738585072014e-308', '4.9e-324', '1e21', '1e-400',
  '12345.6789', '0.12345678901', '0.1234567890123', '1.1e-6', '100000.00001', '2.5', '1E+2', '1e+2', '1E-2', '-1.5', '-1e21', '-123456789012345680000',
  `1${'0'.repeat(400)}`, `0.${'0'.repeat(400)}1`, `${'9'.repeat(30)}.5`,
];

/** Volumes: a JSON number that is an integer in 1..2^31-1, however it is written. */
const volumeNumbers = [
  '1e9', '1E9', '2147483647.0', '2147483647', '2147483648', '2.147483647e9', '2.1474836475e9', '1e0', '1.0', '1.5', '0', '-0', '-1', '0.9999999999999999',
  '0.99999999999999999', '1.00000000000000001', '1e999', '5e-324', '1e-400', '2147483646.9999999', '4294967297', '9007199254740993', '"1"', '[1]', 'true',
];

/** Timestamps as numbers (epoch ms, printed in reasons) and as ISO text, every refusal of timestamp.ts. */
const timestampNumbers = [
  '1.7e12', '1700000000000.0', '1.7000000000005e12', '1e21', '1e22', '-1e21', '-0', '0', '-1', '1e-7', '-1e-7', '5e-324', '1.5', '0.1',
  '253402214399999', '253402214400000', '253402214399999.5', '2.53402214399999e14', '1e999', '-1e999', '123456789012345680000', '1e300',
  '0.000001', '1234.5678e3', '1e-6', '9.5e-7', '-9007199254740993',
];
const timestampTexts = [
  '2026-11-25T06:01:02Z', '2026-11-25t06:01:02z', '2026-11-25 06:01:02.1Z', '2026-11-25T06:01:02,12Z', '2026-11-25T06:01:02.123456789Z',
  '2026-11-25T06:01:02.1234567890Z', '2026-11-25T06:01:02.Z', '2026-11-25T06:01:02+18:00', '2026-11-25T06:01:02-18:00', '2026-11-25T06:01:02+18:60',
  '2026-11-25T06:01:02+1800', '2026-11-25T06:01:02+18', '2026-11-25T06:01:02+1', '2026-11-25T06:01:02+01:0', '2026-11-25T06:01:02+01-00',
  '2026-11-25T06:01:02+0a:00', '2026-11-25T06:01:02Z ', ' 2026-11-25T06:01:02Z', '2026-11-25T06:01:02ZZ', '2026-11-25T06:01:02UTC',
  '2026-11-25X06:01:02Z', '2026/11/25T06:01:02Z', '0000-01-01T00:00:00Z', '1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000+00:01',
  '2026-13-01T00:00:00Z', '2026-00-01T00:00:00Z', '2026-04-31T00:00:00Z', '2026-04-00T00:00:00Z', '2026-11-25T23:60:00Z', '2026-11-25T23:59:60Z',
  '9999-12-30T23:59:59.999Z', '9999-12-31T00:00:00Z', '9999-12-31T01:00:00+02:00', '9999-12-31T23:59:59.999-18:00',
  '2026-11-25T06:01:02.123+05:30', `2026-11-25T06:01:02.${'1'.repeat(19)}`, `2026-11-25T06:01:02.${'1'.repeat(17)}Z`, '2026-11-25T06:01:02',
  '2026-11-25T06:01:0', '+275760-09-13T00:00:00Z', '２026-11-25T06:01:02Z', `2026-11-25T06:01:02Z${smile}`, '2026-11-25T06:01:02\u0000Z',
  '2026-11-25T06:01:02.123Z\u007f', `${'x'.repeat(45)}`, `${'\u0001'.repeat(30)}`,
];
const timestampRaw = [
  '"2026-11-25T06:01:02\\u005a"', '"2026-11-25T06:01:02.1\\ud800Z"', '"2026-11-25T06:01:02\\u0000\\u0000"', '"\\u0032026-11-25T06:01:02Z"',
  `"${'\\ud83d\\ude00'.repeat(25)}"`, 'true', '[]', '{}', '"2026-11-25T06:01:02.123Z" ',
];

/** Keys: escaped spellings are the same key; the last duplicate wins; null trade_timestamp falls back to the alias. */
const keys: string[] = [
  record('"trade\\u005fid":"t-1"', ...rest('id')), record('"\\u0074icker":"AAPL"', ...rest('ticker')), record('"pr\\u0069ce":"1.5"', ...rest('price')),
  record('"volum\\u0065":7', ...rest('volume')), record('"trade\\u005Ftimestamp":"2026-11-25T06:01:02Z"', ...rest('ts')),
  record('"times\\u0074amp":"2026-11-25T06:01:02Z"', ...rest('ts')), record('"trade\\/id":"t-1"', ...rest('id')), record('"trade_id ":"t-1"', ...rest('id')),
  record('"Trade_id":"t-1"', ...rest('id')), record('"trade_id\\u0000":"t-1"', ...rest('id')), record(`"trade_id${smile}":"t-1"`, ...rest('id')),
  record(`"${smile}":"x"`, ...rest()), record('"\\ud800":1', ...rest()), record('"":1', ...rest()),
  record(...rest(), '"price":"-1"'), record('"price":"-1"', ...rest()), record(...rest(), '"price":"2"'), record('"price":"2"', ...rest('price'), '"price":"3.5"'),
  record(...rest(), '"volume":0'), record('"volume":0', ...rest()), record(...rest(), '"trade_id":null'), record('"trade_id":null', ...rest()),
  record(...rest(), '"trade_id":"t-2"', '"trade_id":"t-3"'), record(...rest(), '"ticker":1'), record('"ticker":1', ...rest()),
  record(...rest(), '"trade_timestamp":null', '"timestamp":"2027-01-01T00:00:00Z"'),
  record(...rest(), '"trade_timestamp":null'), record(...rest('ts'), '"timestamp":null', '"trade_timestamp":1'),
  record(...rest('ts'), '"timestamp":"2027-01-01T00:00:00Z"', '"timestamp":5'), record(...rest(), '"timestamp":"garbage"', '"trade_timestamp":"bad"'),
  record(...rest(), '"trade_timestamp":false'), record(...rest('ts'), '"trade_timestamp":[]', '"timestamp":"2027-01-01T00:00:00Z"'),
  record('"__proto__":{"trade_id":"p"}', ...rest()), record('"__proto__":null', ...rest()), record('"constructor":1', '"toString":2', ...rest()),
  record(...rest(), '"extra":{"trade_id":null,"price":"x"}'), record('"trade_id":"t-1"', '"trade_id":"t-1"'), '{}', '{"trade_id":null}',
  record(...rest('price')), record(...rest('volume')), record(...rest('ticker')), withRaw('price', 'null'), withRaw('volume', 'null'),
  withRaw('price', '""'), withRaw('price', '[]'), withRaw('price', '{}'), withRaw('price', 'false'), withRaw('volume', '{}'),
];

/** JSON text around a valid record: whitespace, BOM, content after the value, structure mistakes. */
const structure: (string | Buffer)[] = [
  `${validText}]`, `${validText} {}`, `${validText} // c`, `${validText}/* */`, '{} 1', '[] x', `${validText}\n`, `\t\r\n ${validText} \t\r\n`,
  `${validText}\u00a0`, `\u00a0${validText}`, `${validText}\f`, `\v${validText}`, `${validText}\u2028`, `${validText}\u0000`, `\u0000${validText}`,
  `${validText},`, `[${validText}]`, `${validText}${validText}`, `{${validText.slice(1, -1)},}`, `{,${validText.slice(1)}`,
  `{${validText.slice(1, -1).replaceAll(':', ' : ').replaceAll(',', ' ,\n')}}`, validText.replaceAll('"', "'"), validText.replace('"trade_id"', 'trade_id'),
  validText.replace('}', ''), validText.replace(':', '::'), validText.replace(',', ',,'), '{"a":1,}', '{"a"}', '{"a":}', '{"a" 1}', '{1:1}', '{"a":1 "b":2}',
  '[1,]', '[,1]', '[1 2]', '[', ']', '{', '}', '"', '"\\"', '"\\u12"', '"\\u12g4"', '"\\x41"', '"\\U0041"', '"\\\'"', '"a\tb"', '"\u0000"', '"\u001f"', '"\u007f"',
  'tru', 'truee', 'True', 'nul', 'NaN', '-NaN', 'Infinity', '-Infinity', '+1', '01', '-01', '1.', '.1', '1e', '1e+', '-', '--1', '0x10', '1_000', '١',
  '0', '-0', '1e999', '"x"', 'true', 'false', 'null', '[]', '[{}]', '{"":""}', ' ', '\t', '\n', '\r', '\r\n', ' \u00a0', '\u3000', '\f', '\v',
  bytes([0xef, 0xbb, 0xbf]), bytes([0xef, 0xbb, 0xbf], ' '), bytes(' ', [0xef, 0xbb, 0xbf], validText), bytes([0xef, 0xbb, 0xbf], '{}'),
  bytes([0xfe, 0xff], validText), bytes([0x00]), bytes([0x00, 0x00]), bytes(validText, [0x00]), bytes('{"trade_id":"a', [0x00], `b",${rest('id').join(',')}}`),
  bytes('{', [0x00], '}'), bytes(' ', [0x00]),
  // Nesting far deeper than any recursive parser survives; V8's JSON.parse reads it all.
  `${'['.repeat(100_000)}${']'.repeat(100_000)}`, '['.repeat(100_000), `${'['.repeat(30_000)}${']'.repeat(30_000)}`, `${'['.repeat(30_000)}${']'.repeat(29_999)}`,
  `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`, '{"a":'.repeat(10_000), `${'{"a":['.repeat(5_000)}{}${']}'.repeat(5_000)}`,
  record(...rest(), `"deep":${'['.repeat(20_000)}"x"${']'.repeat(20_000)}`), record(`"deep":${'[{"b":'.repeat(4_000)}null${'}]'.repeat(4_000)}`, ...rest()),
  record(...rest(), `"deep":${'['.repeat(20_000)}"x"${']'.repeat(19_999)}`), record(...rest(), `"deep":${'['.repeat(64)}${']'.repeat(64)}`),
  record(...rest(), `"deep":${'['.repeat(65)}1${']'.repeat(65)}`), record(...rest(), `"deep":${'{"a":'.repeat(63)}[${'}'.repeat(63)}]`),
  record(...rest(), `"deep":${'['.repeat(129)}{}${']'.repeat(128)}}`),
  // Containers change kind past 64 and 128 levels: each level's kind must be remembered, not a neighbour's.
  `${'['.repeat(100)}${'{"a":'.repeat(100)}1${'}'.repeat(100)}${']'.repeat(100)}`, `${'{"a":'.repeat(100)}${'['.repeat(100)}1${']'.repeat(100)}${'}'.repeat(100)}`,
  `${'['.repeat(100)}${'{"a":'.repeat(100)}1${'}'.repeat(99)}]${']'.repeat(100)}`, `${'{"a":'.repeat(70)}${'['.repeat(70)}${'{"a":'.repeat(70)}1${'}'.repeat(70)}${']'.repeat(70)}${'}'.repeat(70)}`,
];

/** Bytes that are not UTF-8 as Node's isUtf8 (WHATWG) sees it, and 4-byte characters that are. */
const utf8: Buffer[] = [
  inTradeId([0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]), // CESU-8 pair for U+1F600
  inTradeId([0xed, 0xa0, 0x80]), inTradeId([0xed, 0xbf, 0xbf]), inTradeId([0xed, 0x9f, 0xbf]), inTradeId([0xee, 0x80, 0x80]),
  inTradeId([0xc0, 0x80]), inTradeId([0xc1, 0xbf]), inTradeId([0xc2, 0x80]), inTradeId([0xdf, 0xbf]), inTradeId([0xe0, 0x80, 0x80]),
  inTradeId([0xe0, 0x9f, 0xbf]), inTradeId([0xe0, 0xa0, 0x80]), inTradeId([0xf0, 0x80, 0x80, 0x80]), inTradeId([0xf0, 0x8f, 0xbf, 0xbf]),
  inTradeId([0xf0, 0x90, 0x80, 0x80]), inTradeId([0xf4, 0x8f, 0xbf, 0xbf]), inTradeId([0xf4, 0x90, 0x80, 0x80]), inTradeId([0xf5, 0x80, 0x80, 0x80]),
  inTradeId([0xf8, 0x88, 0x80, 0x80, 0x80]), inTradeId([0xfc, 0x84, 0x80, 0x80, 0x80, 0x80]), inTradeId([0xfe]), inTradeId([0xff]), inTradeId([0x80]),
  inTradeId([0xbf]), inTradeId([0xe2, 0x82]), inTradeId([0xe2]), inTradeId([0xf0, 0x9f, 0x98]), inTradeId([0xc3]), inTradeId([0xe2, 0x28, 0xa1]),
  inTradeId([0xf0, 0x9f, 0x98, 0x80, 0x80]),
  bytes(validText, [0xe2, 0x82]), bytes(validText, [0xc3]), bytes(validText, [0xf0]), bytes([0x80], validText),
  bytes(`{"tr${smile}":1,${rest().join(',')}}`), bytes(`{"${'\u{10FFFF}'}":"${'\u{10000}'}",${rest().join(',')}}`),
  bytes(`{${rest('price').join(',')},"price":"1${smile}"}`), bytes(`{${rest('ts').join(',')},"trade_timestamp":"2026-11-25T06:01:02${smile}Z"}`),
  bytes(`{${rest('ticker').join(',')},"ticker":"${'\u{1D11E}'.repeat(30)}"}`),
];

export const corpus: Buffer[] = [
  ...original,
  ...tradeIds,
  ...tickers,
  ...priceNumbers.map((n) => withRaw('price', n)),
  ...priceNumbers.filter((n) => !n.startsWith('-')).map((n) => withRaw('price', `-${n}`)),
  ...priceNumbers.map((n) => withRaw('price', JSON.stringify(n))),
  ...volumeNumbers.map((n) => withRaw('volume', n)),
  ...timestampNumbers.map((n) => withRaw('trade_timestamp', n)),
  ...timestampNumbers.map((n) => record(...rest('ts'), `"timestamp":${n}`)),
  ...timestampTexts.map((t) => j({ ...valid, trade_timestamp: t })),
  ...timestampRaw.map((t) => withRaw('trade_timestamp', t)),
  ...keys,
  ...structure,
  ...utf8,
].map((l) => (typeof l === 'string' ? Buffer.from(l) : l));

const beat = '2026-11-25T06:01:02.123Z';
/**
 * Heartbeats — exactly one member "heartbeat" whose value is a timestamp string valid as
 * trade_timestamp — and near misses, which are ordinary records (refused as any other record
 * without trade fields, or a trade when the trade fields are there).
 */
export const heartbeats: Buffer[] = [
  j({ heartbeat: beat }), ` ${j({ heartbeat: beat })}\n`, '{ "heartbeat" : "2026-11-25T06:01:02Z" }', '{"heart\\u0062eat":"2026-11-25T06:01:02Z"}',
  j({ heartbeat: '2026-11-25 07:01:02.5+01:00' }), j({ heartbeat: '2026-11-25T06:01:02.123999Z' }), j({ heartbeat: '1970-01-01T00:00:00Z' }),
  j({ heartbeat: '9999-12-30T23:59:59.999Z' }), '{"heartbeat":"garbage","heartbeat":"2026-11-25T06:01:02Z"}',
  // near misses
  '{"heartbeat":"2026-11-25T06:01:02Z","heartbeat":"garbage"}', '{"heartbeat":"2026-11-25T06:01:02Z","heartbeat":null}',
  j({ heartbeat: beat, extra: 1 }), j({ extra: 1, heartbeat: beat }), j({ heartbeat: beat, trade_id: 't-1' }), j({ ...valid, heartbeat: beat }),
  j({ heartbeat: beat, ...valid }), j({ heartbeat: beat, timestamp: beat }), j({ heartbeat: beat, __proto__x: 1 }), `{"__proto__":1,"heartbeat":"${beat}"}`,
  ...timestampTexts.map((t) => j({ heartbeat: t })), ...timestampRaw.map((t) => `{"heartbeat":${t}}`),
  j({ heartbeat: 1_764_050_462_123 }), j({ heartbeat: '1764050462123' }), j({ heartbeat: null }), j({ heartbeat: true }), j({ heartbeat: '' }),
  j({ heartbeat: {} }), j({ heartbeat: { time: beat } }), j({ heartbeat: [beat] }), j({ a: { heartbeat: beat } }), JSON.stringify([{ heartbeat: beat }]),
  j({ Heartbeat: beat }), j({ 'heartbeat ': beat }), j({ heartbeats: beat }), j({ trade_timestamp: beat }), j({ timestamp: beat }), '{}',
  `{"heartbeat":"${beat}"} x`, `{"heartbeat":"${beat}",}`, `{"heartbeat":"${beat}"`, `"heartbeat"`, `{"heartbeat":"2026-11-25T06:01:02${smile}Z"}`,
  bytes('{"heartbeat":"2026-11-25T06:01:02', [0xc3], 'Z"}'), `{"heartbeat":"${'x'.repeat(70_000)}"}`,
].map((l) => (typeof l === 'string' ? Buffer.from(l) : l));
