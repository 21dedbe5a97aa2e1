import { describe, expect, it } from 'vitest';
import { decodeFlatTradeText } from '../../src/trade/flat-trade-decoder.ts';
import { parseTradeBytes, parseTradeText, parseTradeTextReference } from '../../src/trade/parse.ts';

const beat = '2026-11-25T06:01:02.123Z';
const ms = Date.UTC(2026, 10, 25, 6, 1, 2, 123);
const valid = { trade_id: 't-1', ticker: 'AAPL', price: '187.2300', volume: 1200, trade_timestamp: beat };

describe('heartbeat records', () => {
  it.each([
    ['the plain form', JSON.stringify({ heartbeat: beat }), ms],
    ['with whitespace around and inside', ` { "heartbeat" : "${beat}" }\n`, ms],
    ['an escaped key', '{"heart\\u0062eat":"2026-11-25T06:01:02Z"}', Date.UTC(2026, 10, 25, 6, 1, 2)],
    ['another zone and a space', JSON.stringify({ heartbeat: '2026-11-25 07:01:02.5+01:00' }), Date.UTC(2026, 10, 25, 6, 1, 2, 500)],
    ['sub-millisecond digits (truncated)', JSON.stringify({ heartbeat: '2026-11-25T06:01:02.123999Z' }), ms],
    ['the first valid time', JSON.stringify({ heartbeat: '1970-01-01T00:00:00Z' }), 0],
    ['the last valid time', JSON.stringify({ heartbeat: '9999-12-30T23:59:59.999Z' }), Date.UTC(9999, 11, 30, 23, 59, 59, 999)],
    ['a duplicate key: the last one counts', `{"heartbeat":"garbage","heartbeat":"${beat}"}`, ms],
  ])('%s is a heartbeat', (_, text, expected) => {
    expect(parseTradeText(text)).toStrictEqual({ ok: 'heartbeat', tsMs: expected });
    expect(parseTradeBytes(Buffer.from(text))).toStrictEqual({ ok: 'heartbeat', tsMs: expected });
    // The fast path leaves it to the reference parser.
    expect(decodeFlatTradeText(text, 65_536)).toBeNull();
  });

  it.each([
    ['a duplicate key whose last value is not a time', `{"heartbeat":"${beat}","heartbeat":"garbage"}`, 'missing_field'],
    ['a null last duplicate', `{"heartbeat":"${beat}","heartbeat":null}`, 'missing_field'],
    ['another member after it', JSON.stringify({ heartbeat: beat, extra: 1 }), 'missing_field'],
    ['another member before it', JSON.stringify({ extra: 1, heartbeat: beat }), 'missing_field'],
    ['a __proto__ member', `{"__proto__":1,"heartbeat":"${beat}"}`, 'missing_field'],
    ['trade fields beside it (an ordinary trade)', JSON.stringify({ heartbeat: beat, ...valid }), 'trade'],
    ['epoch milliseconds', JSON.stringify({ heartbeat: ms }), 'missing_field'],
    ['epoch milliseconds as a string', JSON.stringify({ heartbeat: String(ms) }), 'missing_field'],
    ['no zone', JSON.stringify({ heartbeat: '2026-11-25T06:01:02' }), 'missing_field'],
    ['out of range', JSON.stringify({ heartbeat: '9999-12-31T00:00:00Z' }), 'missing_field'],
    ['an empty string', JSON.stringify({ heartbeat: '' }), 'missing_field'],
    ['null', JSON.stringify({ heartbeat: null }), 'missing_field'],
    ['an object', JSON.stringify({ heartbeat: { time: beat } }), 'missing_field'],
    ['an array value', JSON.stringify({ heartbeat: [beat] }), 'missing_field'],
    ['nested', JSON.stringify({ a: { heartbeat: beat } }), 'missing_field'],
    ['inside an array', JSON.stringify([{ heartbeat: beat }]), 'not_an_object'],
    ['another case', JSON.stringify({ Heartbeat: beat }), 'missing_field'],
    ['a plural key', JSON.stringify({ heartbeats: beat }), 'missing_field'],
    ['trailing content', `{"heartbeat":"${beat}"} x`, 'invalid_json'],
    ['a trailing comma', `{"heartbeat":"${beat}",}`, 'invalid_json'],
  ])('%s is an ordinary record', (_, text, expected) => {
    const r = parseTradeTextReference(text);
    expect(r.ok === true ? 'trade' : r.ok === false ? r.code : r.ok).toBe(expected);
    expect(parseTradeText(text)).toStrictEqual(r);
  });

  it('size and UTF-8 are checked first', () => {
    const big = `{"heartbeat":"${beat}"${' '.repeat(100)}}`;
    expect(parseTradeBytes(Buffer.from(big), 64)).toMatchObject({ ok: false, code: 'too_large' });
    const bad = Buffer.concat([Buffer.from('{"heartbeat":"2026-11-25T06:01:02'), Buffer.from([0xc3]), Buffer.from('Z"}')]);
    expect(parseTradeBytes(bad)).toMatchObject({ ok: false, code: 'invalid_utf8' });
  });
});
