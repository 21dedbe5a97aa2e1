import { isUtf8 } from 'node:buffer';
import { parseDecimalE4, parseNumberE4 } from './decimal.ts';
import { decodeFlatTradeBytes, decodeFlatTradeText } from './flat-trade-decoder.ts';
import { checkEpochMs, clip, parseIsoTimestamp } from './timestamp.ts';
import { MAX_TRADE_ID_LENGTH, MAX_VOLUME, TICKER_PATTERN, type Trade } from './trade.ts';

/** Why a record was refused; `code` is stable (metrics, tests, the Flink compiler), `reason` is for people. */
export type RejectCode =
  | 'too_large'
  | 'invalid_utf8'
  | 'invalid_json'
  | 'not_an_object'
  | 'missing_field'
  | 'invalid_trade_id'
  | 'invalid_ticker'
  | 'invalid_price'
  | 'invalid_volume'
  | 'invalid_timestamp';

/**
 * A trade; a heartbeat (`ok: 'heartbeat'`: a time-only record that moves its partition's event
 * time and is neither stored nor dead-lettered); or why the record was refused.
 */
export type ParseResult = { ok: true; trade: Trade } | { ok: 'heartbeat'; tsMs: number } | { ok: false; code: RejectCode; reason: string };

export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024;

const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

const CONTROL_CHARS_ALL = /[\u0000-\u001f\u007f]/g;

/** Nothing but JSON's four whitespace characters. */
const JSON_BLANK = /^[ \t\n\r]*$/;

/**
 * Reasons quote the record (a ticker, a price, a timestamp), and they end up in a PostgreSQL
 * text column, a Kafka header and a terminal: none of those may receive NUL or control
 * characters, so they are written as escapes; a lone surrogate (from a `\\uD800` escape, or a
 * clip through a pair) has no UTF-8 form, so it becomes U+FFFD. The reason text is part of the
 * contract: the Flink function (stack/udf) writes the same text for the same record.
 */
function reject(code: RejectCode, reason: string): ParseResult {
  const printable = CONTROL_CHARS.test(reason) ? reason.replace(CONTROL_CHARS_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : reason;
  return { ok: false, code, reason: printable.toWellFormed() };
}

/** Unicode characters (code points), as PostgreSQL counts a VARCHAR(n) — not UTF-16 units. */
function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/**
 * Bytes from Kafka or a file → a Trade, or the reason it was refused. The common flat shape is
 * decoded directly (flat-trade-decoder.ts); everything else, and every refusal, comes from the
 * reference path below, so the result is always the reference's.
 */
export function parseTradeBytes(bytes: Uint8Array, maxBytes = DEFAULT_MAX_RECORD_BYTES): ParseResult {
  const trade = decodeFlatTradeBytes(bytes, maxBytes);
  return trade !== null ? { ok: true, trade } : parseTradeBytesReference(bytes, maxBytes);
}

/** One JSON trade event as text: as parseTradeBytes. Never throws. */
export function parseTradeText(text: string, maxBytes = DEFAULT_MAX_RECORD_BYTES): ParseResult {
  const trade = decodeFlatTradeText(text, maxBytes);
  return trade !== null ? { ok: true, trade } : parseTradeTextReference(text, maxBytes);
}

/**
 * The reference parser, the cross-engine contract (the Flink function in stack/udf gives the
 * same code, reason and fields for every byte sequence). Size and UTF-8 are checked before JSON.
 */
export function parseTradeBytesReference(bytes: Uint8Array, maxBytes = DEFAULT_MAX_RECORD_BYTES): ParseResult {
  if (bytes.length > maxBytes) return reject('too_large', `record of ${bytes.length} bytes exceeds ${maxBytes}`);
  // isUtf8 + toString is several times faster than a fatal TextDecoder on short records.
  if (!isUtf8(bytes)) return reject('invalid_utf8', 'record is not valid UTF-8');
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  return parseTradeTextReference(text, maxBytes);
}

/**
 * The reference parser for text: one JSON trade event → a Trade, or the reason it was refused.
 * Never throws: every input, however broken, must become either a trade or a dead letter.
 */
export function parseTradeTextReference(text: string, maxBytes = DEFAULT_MAX_RECORD_BYTES): ParseResult {
  // Characters ≤ bytes, so this cheap check is exact only when it passes; the byte check is done by callers with bytes.
  if (text.length > maxBytes) return reject('too_large', `record of ${text.length} characters exceeds ${maxBytes} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // No excerpt of JSON.parse's message: its wording changes between V8 versions, and every
    // engine must give the same reason for the same record.
    if (JSON_BLANK.test(text)) return reject('invalid_json', 'record is empty');
    return reject('invalid_json', 'record is not valid JSON');
  }
  return validateTrade(value);
}

/**
 * `{"heartbeat": "<timestamp>"}`: exactly one member (after JSON.parse, so of duplicate keys the
 * last counts), a string valid as an ISO-8601 trade_timestamp (not epoch milliseconds). Null for
 * anything else, which is then judged as an ordinary record.
 */
function heartbeatTime(o: Record<string, unknown>): number | null {
  const beat = o.heartbeat;
  if (typeof beat !== 'string') return null;
  for (const k in o) if (k !== 'heartbeat') return null;
  const t = parseIsoTimestamp(beat);
  return t.ok ? t.ms : null;
}

export function validateTrade(value: unknown): ParseResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return reject('not_an_object', 'record is not a JSON object');
  }
  const o = value as Record<string, unknown>;
  if (o.heartbeat !== undefined) {
    const beat = heartbeatTime(o);
    if (beat !== null) return { ok: 'heartbeat', tsMs: beat };
  }

  const tradeId = o.trade_id;
  if (tradeId === undefined || tradeId === null) return reject('missing_field', 'trade_id is missing');
  // Characters as stock_trades.trade_id VARCHAR(255) counts them: a string of 255 astral-plane
  // characters (510 UTF-16 units) fits; the cheap length tests decide all but that middle band.
  if (
    typeof tradeId !== 'string' ||
    tradeId.length === 0 ||
    (tradeId.length > MAX_TRADE_ID_LENGTH && (tradeId.length > 2 * MAX_TRADE_ID_LENGTH || codePointLength(tradeId) > MAX_TRADE_ID_LENGTH))
  ) {
    return reject('invalid_trade_id', `trade_id must be a string of 1..${MAX_TRADE_ID_LENGTH} characters`);
  }
  // PostgreSQL text cannot hold NUL, and control characters in a key are never intended.
  if (CONTROL_CHARS.test(tradeId)) return reject('invalid_trade_id', 'trade_id contains control characters');
  // A lone surrogate (a `\\uD800` escape) has no UTF-8 form: each database driver would store a different replacement.
  if (!tradeId.isWellFormed()) return reject('invalid_trade_id', 'trade_id contains a lone surrogate');

  const ticker = o.ticker;
  if (ticker === undefined || ticker === null) return reject('missing_field', 'ticker is missing');
  if (typeof ticker !== 'string' || !TICKER_PATTERN.test(ticker)) {
    return reject('invalid_ticker', `ticker ${typeof ticker === 'string' ? `"${clip(ticker)}"` : 'is not a string and'} must be 1-10 of A-Z 0-9 . -`);
  }

  const price = o.price;
  if (price === undefined || price === null) return reject('missing_field', 'price is missing');
  const p = typeof price === 'string' ? parseDecimalE4(price) : typeof price === 'number' ? parseNumberE4(price) : null;
  if (p === null) return reject('invalid_price', 'price must be a decimal string or a number');
  if (!p.ok) return reject('invalid_price', p.reason);

  const volume = o.volume;
  if (volume === undefined || volume === null) return reject('missing_field', 'volume is missing');
  if (typeof volume !== 'number' || !Number.isInteger(volume) || volume < 1 || volume > MAX_VOLUME) {
    return reject('invalid_volume', `volume must be an integer in 1..${MAX_VOLUME}`);
  }

  // The seed's producer wrote `timestamp`; we read it as an alias and always write `trade_timestamp`.
  const ts = o.trade_timestamp ?? o.timestamp;
  if (ts === undefined || ts === null) return reject('missing_field', 'trade_timestamp is missing');
  const t = typeof ts === 'string' ? parseIsoTimestamp(ts) : typeof ts === 'number' ? checkEpochMs(ts) : null;
  if (t === null) return reject('invalid_timestamp', 'trade_timestamp must be an ISO-8601 string or epoch milliseconds');
  if (!t.ok) return reject('invalid_timestamp', t.reason);

  return { ok: true, trade: { tradeId, ticker, priceE4: p.e4, volume, tsMs: t.ms } };
}
