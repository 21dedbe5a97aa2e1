import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_RECORD_BYTES, parseTradeBytes } from '../../src/trade/parse.ts';
import { formatPriceE4, MAX_EVENT_TIME_MS, tradeToJson } from '../../src/trade/trade.ts';
import { stackLayout } from '../../src/stack/layout.ts';
import { stackSettings } from '../../src/stack/settings.ts';
import { ensureUdfJar, isUdfBuilt } from '../../src/stack/udf.ts';
import { type ParserOutcome, runJavaParser } from '../support/java-parser.ts';
import { editedRecord } from '../support/trade-arbitraries.ts';
import { corpus, heartbeats, valid, withRaw } from '../support/trade-edge-cases.ts';

/**
 * The Flink function's parser (stack/udf, Java) against src/trade/parse.ts, record by record:
 * the same reject code and reason text, or the same trade_id, ticker, price, volume and event
 * time. Every corpus goes through one harness JVM; a failure lists the records that differ.
 * Needs Java and Maven only (no Kafka, no Flink): the jar is the one `tickflow stack up` builds,
 * built here if the stack folder lacks the current one.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
let jar = '';
const SEED = Number(process.env.TICKFLOW_CONFORMANCE_SEED ?? 20_261_125);
const RUNS = 5_000;

const compared: { corpus: string; maxBytes: number; records: number; javaMs: number }[] = [];

function reference(bytes: Uint8Array, maxBytes: number): ParserOutcome {
  const r = parseTradeBytes(bytes, maxBytes);
  if (r.ok === 'heartbeat') return { code: 'heartbeat', reason: null, trade_id: null, ticker: null, price: null, volume: null, ts_ms: r.tsMs };
  if (!r.ok) return { code: r.code, reason: r.reason, trade_id: null, ticker: null, price: null, volume: null, ts_ms: null };
  const t = r.trade;
  return { code: null, reason: null, trade_id: t.tradeId, ticker: t.ticker, price: formatPriceE4(t.priceE4), volume: t.volume, ts_ms: t.tsMs };
}

function preview(b: Buffer): string {
  if (!isUtf8(b)) return `hex ${b.subarray(0, 80).toString('hex')}${b.length > 80 ? `… (${b.length} bytes)` : ''}`;
  const s = b.toString('utf8');
  return JSON.stringify(s.length > 140 ? `${s.slice(0, 140)}… (${b.length} bytes)` : s);
}

/** Both parsers over every record; the differences, listed. */
async function conform(name: string, records: Buffer[], maxBytes = DEFAULT_MAX_RECORD_BYTES): Promise<void> {
  const started = performance.now();
  const java = await runJavaParser(jar, records, maxBytes);
  compared.push({ corpus: name, maxBytes, records: records.length, javaMs: Math.round(performance.now() - started) });
  const mismatches: string[] = [];
  for (let i = 0; i < records.length; i++) {
    const expected = JSON.stringify(reference(records[i]!, maxBytes));
    const actual = JSON.stringify(java[i]);
    if (actual !== expected) mismatches.push(`#${i} ${preview(records[i]!)}\n    java ${actual}\n    ts   ${expected}`);
  }
  const header = `${name}, maxBytes ${maxBytes}, seed ${SEED}: ${mismatches.length} of ${records.length} records differ`;
  expect(mismatches.length === 0 ? [] : [header, ...mismatches.slice(0, 30)]).toEqual([]);
}

const sample = <T>(arb: fc.Arbitrary<T>, salt: number, numRuns = RUNS): T[] => fc.sample(arb, { seed: SEED + salt, numRuns });
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

beforeAll(async () => {
  ({ jar } = await ensureUdfJar(stackLayout(stackSettings({}, process.env).dir)));
}, 600_000);

afterAll(() => {
  const total = compared.reduce((n, c) => n + c.records, 0);
  console.log(
    `parser conformance (seed ${SEED}): ${total} records compared\n${compared.map((c) => `  ${String(c.records).padStart(7)}  ${c.corpus} (maxBytes ${c.maxBytes}, harness ${c.javaMs} ms)`).join('\n')}`,
  );
});

describe('the parser function jar in the stack folder', () => {
  it('is built once per source content: a second ensure finds it current', async () => {
    const layout = stackLayout(stackSettings({}, process.env).dir);
    expect(await isUdfBuilt(layout)).toBe(true);
    const again = await ensureUdfJar(layout);
    expect(again).toEqual({ jar, built: false, seconds: 0 });
  });
});

describe('the Java trade parser (stack/udf) = src/trade/parse.ts', () => {
  it('hand-written edge cases', async () => {
    await conform('edge cases', corpus);
    await conform('edge cases', corpus, 1 << 20); // the 100,000-level nesting is parsed, not refused by size
    await conform('edge cases', corpus, 50);
    // Each record twice in a row, as Flink hands it to the parser: the second answer comes from the memo.
    await conform(
      'edge cases, each twice in a row',
      corpus.flatMap((b) => [b, Buffer.from(b)]),
    );
  });

  it('heartbeats and near misses (extra member, bad or non-string time, nested, array, duplicate keys, escaped key)', async () => {
    const java = await runJavaParser(jar, heartbeats, DEFAULT_MAX_RECORD_BYTES);
    // The corpus must exercise both sides: real heartbeats, and near misses refused as ordinary records.
    expect(java.filter((o) => o.code === 'heartbeat').length).toBeGreaterThanOrEqual(15);
    expect(java.filter((o) => o.code !== 'heartbeat').length).toBeGreaterThanOrEqual(60);
    await conform('heartbeats', heartbeats);
    await conform('heartbeats', heartbeats, 40);
    await conform(
      'heartbeats, each twice in a row',
      heartbeats.flatMap((b) => [b, Buffer.from(b)]),
    );
    // A heartbeat between two copies of a trade, as a partition interleaves them: the memo keeps neither answer for the other.
    await conform(
      'heartbeats between trades',
      heartbeats.flatMap((b) => [corpus[0]!, b, corpus[0]!]),
    );
  });

  describe('JSONTestSuite', () => {
    const dir = join(root, 'test/fixtures/json-test-suite/test_parsing');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => ({ name: f, bytes: readFileSync(join(dir, f)) }));
    const accepted = files.filter((f) => f.name.startsWith('y_') || f.name.startsWith('i_'));
    const fields = ['trade_id', 'ticker', 'price', 'volume', 'trade_timestamp'] as const;

    it('every file as a record', async () => {
      expect(files.length).toBeGreaterThan(300);
      await conform(
        'JSONTestSuite files',
        files.map((f) => f.bytes),
      );
      await conform(
        'JSONTestSuite files',
        files.map((f) => f.bytes),
        1 << 20,
      );
    });

    it('every y_/i_ file as the value of each field and of an extra key', async () => {
      const spliced: Buffer[] = [];
      for (const f of accepted) {
        for (const field of fields) {
          const [head, tail] = withRaw(field, '\u0000').split('\u0000') as [string, string];
          spliced.push(Buffer.concat([utf8(head), f.bytes, utf8(tail)]));
        }
        spliced.push(Buffer.concat([utf8('{"extra":'), f.bytes, utf8(`,${JSON.stringify(valid).slice(1)}`)]));
        spliced.push(Buffer.concat([utf8(`${JSON.stringify(valid).slice(0, -1)},"extra":`), f.bytes, utf8('}')]));
      }
      await conform('JSONTestSuite values in a trade', spliced, 1 << 20);
    });
  });

  describe('generated records', () => {
    /** Any UTF-16 unit, lone surrogates included. */
    const anyUnit = fc.nat(0xffff).map((c) => String.fromCharCode(c));
    const anyString = fc.oneof(
      fc.string({ unit: anyUnit, maxLength: 60, size: 'medium' }),
      fc.string({ unit: 'binary', maxLength: 60, size: 'medium' }),
      fc.string({ unit: 'grapheme', maxLength: 60, size: 'medium' }),
      fc.string({ unit: 'binary-ascii', maxLength: 60, size: 'medium' }),
      fc.string({ unit: fc.constantFrom('\u0000', '\u001f', '\u007f', '\ud800', '\udc00', '\u{1F600}', 'A', '.', '-', '"', '\\'), maxLength: 60, size: 'max' }),
    );
    const digits = (min: number, max: number): fc.Arbitrary<string> =>
      fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max, size: 'max' });
    /** JSON number text, any spelling the grammar allows. */
    const numberText = fc
      .tuple(
        fc.boolean(),
        fc.oneof(
          fc.constant('0'),
          fc.tuple(fc.constantFrom(...'123456789'), digits(0, 25)).map(([a, b]) => a + b),
        ),
        fc.option(digits(1, 25), { nil: undefined }),
        fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), digits(1, 4)), { nil: undefined }),
      )
      .map(([neg, int, frac, exp]) => `${neg ? '-' : ''}${int}${frac === undefined ? '' : `.${frac}`}${exp === undefined ? '' : exp.join('')}`);
    const edgeDouble = fc.constantFrom(
      0,
      -0,
      5e-324,
      -5e-324,
      Number.MAX_VALUE,
      1e21,
      1e-7,
      1e-6,
      0.1 + 0.2,
      999999.99995,
      2_147_483_647,
      2 ** 53,
      1.7e12,
      MAX_EVENT_TIME_MS,
      MAX_EVENT_TIME_MS + 1,
    );
    const isoText = fc
      .tuple(
        fc.date({ min: new Date(-1e11), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }),
        fc.constantFrom('T', ' ', 't', 'x'),
        fc.constantFrom('', '.1', '.12', '.123', ',5', '.123456789', '.1234567890', '.'),
        fc.constantFrom('Z', 'z', '+00:00', '-05:30', '+1800', '+18', '-18:59', '+19:00', '+05:60', '', 'Z ', '+5'),
      )
      .map(([d, sep, frac, zone]) => `${d.toISOString().slice(0, 10)}${sep}${d.toISOString().slice(11, 19)}${frac}${zone}`);
    const tickerText = fc.oneof(fc.stringMatching(/^[A-Z0-9.-]{1,10}$/), fc.stringMatching(/^[A-Za-z0-9.\- ]{0,12}$/));
    const priceText = fc.oneof(
      fc.tuple(digits(0, 8), fc.option(digits(0, 12), { nil: undefined })).map(([a, b]) => (b === undefined ? a : `${a}.${b}`)),
      numberText,
    );
    /** A field's value as JSON text. */
    const value: fc.Arbitrary<string> = fc.oneof(
      anyString.map((s) => JSON.stringify(s)),
      fc.double().map((x) => JSON.stringify(x)),
      edgeDouble.map((x) => JSON.stringify(x)),
      fc.integer().map(String),
      numberText,
      fc.constantFrom('true', 'false', 'null', '[]', '{}', '[1,{"a":null}]'),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      tickerText.map((s) => JSON.stringify(s)),
      priceText.map((s) => JSON.stringify(s)),
      isoText.map((s) => JSON.stringify(s)),
    );
    const names = ['trade_id', 'ticker', 'price', 'volume', 'trade_timestamp', 'timestamp'];
    const key = fc.oneof(
      fc.constantFrom(...names).map((n) => JSON.stringify(n)),
      fc.constantFrom(...names).map((n) => `"${n.replace(/[a-z_]/, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`),
      fc.constantFrom('"trade_id "', '"Ticker"', '"extra"', '"__proto__"', '"\\ud800"', `"${'\u{1F600}'}"`),
      anyString.map((s) => JSON.stringify(s)),
    );
    const baseMembers = Object.entries(valid).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);

    it('arbitrary bytes, and a valid record with bytes flipped, cut or inserted', async () => {
      const edited = sample(editedRecord(utf8(JSON.stringify(valid)), 6), 2);
      await conform('arbitrary bytes', [...sample(fc.uint8Array({ maxLength: 300, size: 'max' }), 1).map((b) => Buffer.from(b)), ...edited]);
    });

    it('token soup: JSON pieces in any order', async () => {
      const token = fc.constantFrom(
        '{',
        '}',
        '[',
        ']',
        ':',
        ',',
        ' ',
        '\t',
        '\n',
        '"',
        '\\',
        '"trade_id"',
        '"ticker"',
        '"price"',
        '"volume"',
        '"trade_timestamp"',
        '"timestamp"',
        '"t-1"',
        '"AAPL"',
        '"187.23"',
        '"2026-11-25T06:01:02Z"',
        '1',
        '0',
        '-',
        '.',
        'e',
        '+',
        '1e9',
        '-0',
        '1.5',
        'true',
        'null',
        'fals',
        '"\\ud800"',
        '"\\u0000"',
        '"\\u00"',
        '\u{1F600}',
        '\u00e9',
        '\ufeff',
      );
      const soup = sample(fc.array(token, { maxLength: 40, size: 'max' }), 3).map((t) => utf8(t.join('')));
      const members = sample(fc.shuffledSubarray([...baseMembers, ...baseMembers, '"extra":[{}]', '"timestamp":"2026-11-25T06:01:02Z"']), 4).map((m) =>
        utf8(`{${m.join(',')}}`),
      );
      await conform('token soup', [...soup, ...members]);
    });

    it('arbitrary strings (any UTF-16, lone surrogates included) as records and as JSON strings', async () => {
      const strings = sample(
        fc.oneof(...[anyUnit, 'binary', 'grapheme', 'binary-ascii'].map((unit) => fc.string({ unit: unit as 'binary', maxLength: 300, size: 'max' }))),
        5,
      );
      await conform('arbitrary strings', [...strings.map(utf8), ...strings.map((s) => utf8(JSON.stringify(s)))]);
    });

    it('arbitrary JSON values and objects', async () => {
      const values = sample(fc.jsonValue({ stringUnit: anyUnit }), 6).map((v, i) =>
        utf8(i % 3 === 0 ? JSON.stringify(v, null, i % 2 ? 2 : '\t') : JSON.stringify(v)),
      );
      const objects = sample(fc.dictionary(fc.oneof(fc.constantFrom(...names), fc.string()), fc.jsonValue()), 7).map((o) => utf8(JSON.stringify(o)));
      await conform('arbitrary JSON', [...values, ...objects]);
    });

    it('near-valid records with arbitrary field values, keys, duplicates and order', async () => {
      const fieldValues = sample(fc.tuple(value, value, value, value, value), 8).map((vs) =>
        utf8(`{${vs.map((v, i) => `${JSON.stringify(names[i])}:${v}`).join(',')}}`),
      );
      const oneOff = sample(fc.tuple(fc.constantFrom(...names), value), 9).map(([field, v]) => utf8(withRaw(field, v)));
      const shuffled = sample(fc.tuple(fc.shuffledSubarray(baseMembers), fc.array(fc.tuple(key, value), { maxLength: 4 }), fc.nat()), 10).map(
        ([members, extra, at]) => {
          const all = [...members];
          for (const [k, v] of extra) all.splice(at % (all.length + 1), 0, `${k}:${v}`);
          return utf8(`{${all.join(',')}}`);
        },
      );
      await conform('near-valid records', [...fieldValues, ...oneOff, ...shuffled]);
    });

    it('deep nesting with containers of mixed kinds, some closed wrongly', async () => {
      const nested = fc
        .tuple(fc.array(fc.boolean(), { minLength: 1, maxLength: 400, size: 'max' }), value, fc.nat(5), fc.nat())
        .map(([objects, inner, fault, at]) => {
          const open: string[] = objects.map((o) => (o ? '{"k":' : '['));
          const close = objects.map((o) => (o ? '}' : ']')).reverse();
          const i = at % close.length;
          if (fault === 1) close[i] = close[i] === '}' ? ']' : '}';
          if (fault === 2) close.splice(i, 1);
          if (fault === 3) open[at % open.length] = open[at % open.length] === '[' ? '[1,' : '{"k":1,"k":';
          return `${open.join('')}${inner}${close.join('')}`;
        });
      const records = sample(nested, 14, 2_000);
      await conform('deep mixed nesting', [
        ...records.map(utf8),
        ...records.map((r) => utf8(withRaw('volume', r))),
        ...records.map((r) => utf8(`{"x":${r},${JSON.stringify(valid).slice(1)}`)),
      ]);
    });

    it('valid trades round-tripped through the wire form and its variants', async () => {
      const trade = fc.record({
        tradeId: fc.oneof(
          fc.string({ minLength: 1, maxLength: 255, unit: 'grapheme' }),
          fc.string({ minLength: 1, maxLength: 255, unit: 'binary', size: 'max' }),
          fc.string({ minLength: 200, maxLength: 260, unit: fc.constantFrom('\u{1F600}', 'x', '\u{10FFFF}'), size: 'max' }),
        ),
        ticker: fc.stringMatching(/^[A-Z0-9.-]{1,10}$/),
        priceE4: fc.oneof(fc.integer({ min: 1, max: 9_999_999_999 }), fc.constantFrom(1, 9_999_999_999, 1_872_300, 10_000)),
        volume: fc.integer({ min: 1, max: 2_147_483_647 }),
        tsMs: fc.oneof(fc.integer({ min: 0, max: MAX_EVENT_TIME_MS }), fc.constantFrom(0, MAX_EVENT_TIME_MS)),
        form: fc.nat(5),
      });
      const records = sample(trade, 11).map(({ form, ...t }) => {
        const w: Record<string, unknown> = { ...tradeToJson(t) };
        if (form === 1) w.price = t.priceE4 / 10_000;
        if (form === 2) w.trade_timestamp = t.tsMs;
        if (form === 3) {
          delete w.trade_timestamp;
          w.timestamp = tradeToJson(t).trade_timestamp.replace('T', ' ').replace('Z', '+00:00');
        }
        if (form === 4) w.volume = Number(`${t.volume}.0`);
        return utf8(form === 5 ? JSON.stringify(w, null, 2) : JSON.stringify(w));
      });
      const java = await runJavaParser(jar, records, DEFAULT_MAX_RECORD_BYTES);
      expect(java.filter((r) => r.code === null).length).toBeGreaterThan(RUNS / 2);
      await conform('valid trades', records);
    });

    it('small and odd maxBytes', async () => {
      const records = [
        ...sample(fc.tuple(value, value), 12, 1_500).map(([a, b]) => utf8(withRaw('price', a).replace('"AAPL"', b))),
        ...sample(fc.uint8Array({ maxLength: 80, size: 'max' }), 13, 500).map((b) => Buffer.from(b)),
        utf8(''),
        utf8(' '),
        utf8(JSON.stringify(valid)),
      ];
      for (const maxBytes of [0, 1, 50, 120, JSON.stringify(valid).length, -1]) await conform('near-valid records', records, maxBytes);
    });
  });

  it('prints numbers in reasons as JavaScript String(x) does, over 100,000+ doubles', async () => {
    // A seeded xorshift, so the doubles are the same on every run.
    let state = SEED >>> 0 || 1;
    const next32 = (): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state >>> 0;
    };
    const unit = (): number => next32() / 2 ** 32;
    const view = new DataView(new ArrayBuffer(8));
    const bits = (hi: number, lo: number): number => {
      view.setUint32(0, hi);
      view.setUint32(4, lo);
      return view.getFloat64(0);
    };
    const neighbours = (x: number): number[] => {
      view.setFloat64(0, x);
      const hi = view.getUint32(0);
      const lo = view.getUint32(4);
      const out: number[] = [];
      for (const d of [-2, -1, 1, 2]) {
        const l = lo + d;
        out.push(bits(hi + Math.floor(l / 2 ** 32), ((l % 2 ** 32) + 2 ** 32) % 2 ** 32));
      }
      return out;
    };
    const doubles = new Set<number>();
    for (let i = 0; i < 40_000; i++) doubles.add(bits(next32(), next32())); // any bit pattern
    for (let i = 0; i < 15_000; i++) doubles.add(Math.floor(unit() * 2 ** (unit() * 90))); // integers, past 2^53 and 1e21
    for (let i = 0; i < 25_000; i++) doubles.add(Number(`${Math.floor(unit() * 10 ** (1 + Math.floor(unit() * 8)))}e${Math.floor(unit() * 60) - 30}`)); // few digits
    for (let i = 0; i < 10_000; i++) doubles.add(Math.floor(unit() * 1e10) / 10 ** Math.floor(unit() * 12)); // prices and near-prices
    const edges = [1e21, 1e-7, 1e-6, 1e6, 1e-4, 5e-324, Number.MAX_VALUE, 2.2250738585072014e-308, 2 ** 53, 0.1, 0.2, 0.3, 1 / 3, 2 / 3, MAX_EVENT_TIME_MS];
    for (let e = -1074; e <= 1023; e++) edges.push(2 ** e); // where the gap below is half the gap above
    for (let e = -323; e <= 308; e++) edges.push(Number(`1e${e}`), Number(`5e${e}`), Number(`9.999999999999999e${e}`));
    for (const x of edges) for (const y of [x, ...neighbours(x)]) doubles.add(y);
    for (const x of fc.sample(fc.double({ noNaN: true, noDefaultInfinity: true }), { seed: SEED, numRuns: 10_000 })) doubles.add(x);
    const positive = [...doubles].map(Math.abs).filter((x) => Number.isFinite(x) && x > 0);
    const distinct = [...new Set(positive)];
    expect(distinct.length).toBeGreaterThanOrEqual(100_000);

    // Each double in three reasons: `price -x is not positive`, the positive price's own verdict, and as epoch ms.
    const records: Buffer[] = [];
    for (const x of distinct) {
      records.push(utf8(withRaw('price', String(-x))), utf8(withRaw('price', String(x))), utf8(withRaw('trade_timestamp', String(x))));
    }
    // The reference says what it should: the number as String(x) writes it.
    expect(reference(records[0]!, DEFAULT_MAX_RECORD_BYTES).reason).toBe(`price ${String(-distinct[0]!)} is not positive`);
    await conform(`number formatting (${distinct.length} doubles × 3)`, records);
  });
});
