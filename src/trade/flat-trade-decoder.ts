import { daysFromCivil, isLeap } from './timestamp.ts';
import { MAX_EVENT_TIME_MS, MAX_TRADE_ID_LENGTH, MAX_VOLUME, type Trade } from './trade.ts';

/**
 * A decoder for the one shape almost every record has: a flat JSON object of the known keys
 * (`trade_id`, `ticker`, `price`, `volume`, `trade_timestamp` or `timestamp`), printable ASCII,
 * no escapes, every value valid. It reads the bytes once, builds no intermediate object and
 * creates one string per record (the trade id; tickers come from a small cache).
 *
 * It only ever *accepts*: whenever a record is anything else — another key, a duplicate key, an
 * escape, a non-ASCII byte, a number with an exponent, an invalid value, broken JSON — it answers
 * null and the caller runs the reference parser (JSON.parse + validateTrade), which decides the
 * record, its reject code and its reason. So a record this accepts is exactly the trade the
 * reference accepts (test/trade/flat-trade-decoder.test.ts compares the two on generated,
 * hostile and conformance-suite input), and every rejection keeps the reference's text.
 */

/** Text longer than this goes to the reference parser (it would not fit the scratch buffer as UTF-8). */
const MAX_FAST_TEXT = 1024;
const scratch = Buffer.allocUnsafe(MAX_FAST_TEXT * 3);

/**
 * A ticker (1–10 of A-Z 0-9 . -) as a base-39 number is exact below 2^53, so it keys a cache of
 * ticker strings: every trade of a ticker shares one string and none is built per record.
 */
const tickers = new Map<number, string>();
/** A hostile stream of random tickers must not grow the cache without end. */
const MAX_CACHED_TICKERS = 10_000;

const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;

export function decodeFlatTradeBytes(bytes: Uint8Array, maxBytes: number): Trade | null {
  return decodeFlatTradeRange(bytes, 0, bytes.length, maxBytes);
}

/** The record that is bytes[start, end) of a larger buffer, read in place (no view per record). */
export function decodeFlatTradeRange(bytes: Uint8Array, start: number, end: number, maxBytes: number): Trade | null {
  if (end - start > maxBytes) return null;
  return decode(bytes, start, end, null);
}

export function decodeFlatTradeText(text: string, maxBytes: number): Trade | null {
  if (text.length > maxBytes || text.length > MAX_FAST_TEXT) return null;
  // Scanning bytes is faster than charCodeAt, and the copy costs less than the difference.
  // Any non-ASCII character (a lone surrogate included) shows up as a byte ≥ 0x80 and is
  // refused by the scan, so for what is accepted, byte offsets are character offsets.
  const n = scratch.write(text, 0, 'utf8');
  return decode(scratch, 0, n, text);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN = 0x7b;
const CLOSE = 0x7d;

// Key ids; bit flags so a repeated key is noticed (JSON.parse lets the last win: reference path).
const K_TRADE_ID = 1;
const K_TICKER = 2;
const K_PRICE = 4;
const K_VOLUME = 8;
const K_TRADE_TIMESTAMP = 16;
const K_TIMESTAMP = 32;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipWs(b: Uint8Array, i: number, n: number): number {
  while (i < n && isWs(b[i]!)) i++;
  return i;
}

/** b[from, to) equals the ASCII text `s`. */
function bytesAre(b: Uint8Array, from: number, to: number, s: string): boolean {
  if (to - from !== s.length) return false;
  for (let k = 0; k < s.length; k++) if (b[from + k] !== s.charCodeAt(k)) return false;
  return true;
}

/** The key between the quotes at [from, to), or 0 for any other key. */
function keyId(b: Uint8Array, from: number, to: number): number {
  switch (to - from) {
    case 8:
      return bytesAre(b, from, to, 'trade_id') ? K_TRADE_ID : 0;
    case 6:
      return bytesAre(b, from, to, 'ticker') ? K_TICKER : bytesAre(b, from, to, 'volume') ? K_VOLUME : 0;
    case 5:
      return bytesAre(b, from, to, 'price') ? K_PRICE : 0;
    case 15:
      return bytesAre(b, from, to, 'trade_timestamp') ? K_TRADE_TIMESTAMP : 0;
    case 9:
      return bytesAre(b, from, to, 'timestamp') ? K_TIMESTAMP : 0;
    default:
      return 0;
  }
}

// Scanner results that are not a single number are passed through these (no object per record).
let pos = 0;
/** The timestamp just read: a typed array holds a double as is, a `let` boxed it on every store. */
const tsMs = new Float64Array(1);

/** The record in b[from, n); `text`, when given, is the same record as a string starting at `from` = 0. */
function decode(b: Uint8Array, from: number, n: number, text: string | null): Trade | null {
  let i = skipWs(b, from, n);
  if (i >= n || b[i] !== OPEN) return null;
  i++;
  let seen = 0;
  let idStart = 0;
  let idEnd = 0;
  let ticker = '';
  let priceE4 = 0;
  let volume = 0;
  let mainTs = 0;
  let aliasTs = 0;
  for (;;) {
    i = skipWs(b, i, n);
    if (i >= n || b[i] !== QUOTE) return null;
    const keyStart = i + 1;
    let k = keyStart;
    while (k < n && b[k] !== QUOTE) {
      if (b[k] === BACKSLASH) return null;
      k++;
    }
    if (k >= n) return null;
    const key = keyId(b, keyStart, k);
    if (key === 0 || (seen & key) !== 0) return null;
    seen |= key;
    i = skipWs(b, k + 1, n);
    if (i >= n || b[i] !== COLON) return null;
    i = skipWs(b, i + 1, n);
    if (i >= n) return null;
    const c = b[i]!;
    switch (key) {
      case K_TRADE_ID: {
        if (c !== QUOTE) return null;
        const start = i + 1;
        let j = start;
        for (;;) {
          if (j >= n) return null;
          const d = b[j]!;
          if (d === QUOTE) break;
          // Printable ASCII only: control characters, DEL, escapes and non-ASCII go the long way.
          if (d < 0x20 || d > 0x7e || d === BACKSLASH) return null;
          j++;
        }
        if (j === start || j - start > MAX_TRADE_ID_LENGTH) return null;
        idStart = start;
        idEnd = j;
        i = j + 1;
        break;
      }
      case K_TICKER: {
        if (c !== QUOTE) return null;
        const t = readTicker(b, i + 1, n, text);
        if (t === null) return null;
        ticker = t;
        i = pos;
        break;
      }
      case K_PRICE: {
        const e4 = c === QUOTE ? readDecimalString(b, i + 1, n) : readDecimalNumber(b, i, n);
        if (e4 <= 0) return null;
        priceE4 = e4;
        i = pos;
        break;
      }
      case K_VOLUME: {
        const v = readInteger(b, i, n, 10);
        if (v < 1 || v > MAX_VOLUME) return null;
        volume = v;
        i = pos;
        break;
      }
      default: {
        // trade_timestamp or its alias timestamp
        if (c === QUOTE) {
          if (!readIsoTimestamp(b, i + 1, n)) return null;
        } else {
          const ms = readInteger(b, i, n, 15);
          if (ms < 0 || ms > MAX_EVENT_TIME_MS) return null;
          tsMs[0] = ms;
        }
        if (key === K_TRADE_TIMESTAMP) mainTs = tsMs[0]!;
        else aliasTs = tsMs[0]!;
        i = pos;
      }
    }
    i = skipWs(b, i, n);
    if (i >= n) return null;
    if (b[i] === COMMA) {
      i++;
      continue;
    }
    if (b[i] !== CLOSE) return null;
    break;
  }
  if (skipWs(b, i + 1, n) !== n) return null;
  if ((seen & (K_TRADE_ID | K_TICKER | K_PRICE | K_VOLUME)) !== (K_TRADE_ID | K_TICKER | K_PRICE | K_VOLUME)) return null;
  if ((seen & (K_TRADE_TIMESTAMP | K_TIMESTAMP)) === 0) return null;
  const tradeId = text !== null ? text.slice(idStart, idEnd) : asciiString(b, idStart, idEnd);
  return { tradeId, ticker, priceE4, volume, tsMs: (seen & K_TRADE_TIMESTAMP) !== 0 ? mainTs : aliasTs };
}

/** A ticker's characters up to its closing quote; sets `pos` past the quote. */
function readTicker(b: Uint8Array, start: number, n: number, text: string | null): string | null {
  let code = 0;
  let j = start;
  for (;;) {
    if (j >= n) return null;
    const d = b[j]!;
    if (d === QUOTE) break;
    let digit: number;
    if (d >= 0x41 && d <= 0x5a)
      digit = d - 0x41 + 1; // A-Z → 1..26
    else if (d >= 0x30 && d <= 0x39)
      digit = d - 0x30 + 27; // 0-9 → 27..36
    else if (d === 0x2e) digit = 37;
    else if (d === 0x2d) digit = 38;
    else return null;
    if (j - start === 10) return null;
    code = code * 39 + digit;
    j++;
  }
  if (j === start) return null;
  pos = j + 1;
  let t = tickers.get(code);
  if (t === undefined) {
    t = text !== null ? text.slice(start, j) : latin1Slice.call(b, start, j);
    if (tickers.size < MAX_CACHED_TICKERS) tickers.set(code, t);
  }
  return t;
}

/** A JSON string price such as "187.2300" → 1872300, or -1. Sets `pos` past the closing quote. */
function readDecimalString(b: Uint8Array, start: number, n: number): number {
  const e4 = readDecimalDigits(b, start, n);
  if (e4 < 0 || pos >= n || b[pos] !== QUOTE) return -1;
  pos++;
  return e4;
}

/**
 * A JSON number price such as 187.23 → 1872300, or -1. The reference reads the double and its
 * shortest text; for ≤ 6 integer and ≤ 4 decimal digits (at most 10 significant digits) that
 * text is these digits, so reading them directly gives the same value.
 */
function readDecimalNumber(b: Uint8Array, start: number, n: number): number {
  // JSON allows no leading zero before another digit.
  if (b[start] === 0x30 && start + 1 < n && b[start + 1]! >= 0x30 && b[start + 1]! <= 0x39) return -1;
  const e4 = readDecimalDigits(b, start, n);
  if (e4 < 0) return -1;
  const d = pos < n ? b[pos]! : 0;
  if (d === 0x65 || d === 0x45) return -1; // an exponent: the reference decides
  return e4;
}

/** digits[.digits] with 1..6 integer and 1..4 decimal digits, × 10^4; -1 for anything else. Sets `pos` after it. */
function readDecimalDigits(b: Uint8Array, start: number, n: number): number {
  let j = start;
  let whole = 0;
  while (j < n) {
    const d = b[j]! - 0x30;
    if (d < 0 || d > 9) break;
    whole = whole * 10 + d;
    j++;
  }
  const intDigits = j - start;
  if (intDigits === 0 || intDigits > 6) return -1;
  let frac = 0;
  let scale = 10_000;
  if (j < n && b[j] === 0x2e) {
    j++;
    const fracStart = j;
    while (j < n) {
      const d = b[j]! - 0x30;
      if (d < 0 || d > 9) break;
      frac = frac * 10 + d;
      scale /= 10;
      j++;
    }
    const fracDigits = j - fracStart;
    if (fracDigits === 0 || fracDigits > 4) return -1;
  }
  pos = j;
  return whole * 10_000 + frac * scale;
}

/** A non-negative JSON integer of at most `maxDigits` digits, or -1 (a fraction or exponent follows: -1 too). Sets `pos`. */
function readInteger(b: Uint8Array, start: number, n: number, maxDigits: number): number {
  let j = start;
  let v = 0;
  while (j < n) {
    const d = b[j]! - 0x30;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    j++;
  }
  const digits = j - start;
  if (digits === 0 || digits > maxDigits) return -1;
  if (digits > 1 && b[start] === 0x30) return -1; // a leading zero is not JSON
  if (j < n) {
    const d = b[j]!;
    if (d === 0x2e || d === 0x65 || d === 0x45) return -1;
  }
  pos = j;
  return v;
}

/** `n` digits at `at` as a number, or -1. */
function digitsAt(b: Uint8Array, at: number, count: number): number {
  let v = 0;
  for (let k = at; k < at + count; k++) {
    const d = b[k]! - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Trades arrive in time order, hundreds per minute: the last valid `YYYY-MM-DDTHH:MM` read and
 * its epoch milliseconds are kept, so most timestamps compare 16 bytes and read only their
 * seconds and fraction. (The cached bytes passed every check below, so a match is exact.)
 */
const PREFIX = 16;
const minutePrefix = new Uint8Array(PREFIX);
let minutePrefixMs = -1;

function samePrefix(b: Uint8Array, s: number): boolean {
  for (let k = 0; k < PREFIX; k++) if (b[s + k] !== minutePrefix[k]) return false;
  return true;
}

/** `YYYY-MM-DD[T| |t]HH:MM` at `s` as epoch milliseconds (UTC), or -1. */
function readMinutePrefix(b: Uint8Array, s: number): number {
  const year = digitsAt(b, s, 4);
  const month = digitsAt(b, s + 5, 2);
  const day = digitsAt(b, s + 8, 2);
  const hour = digitsAt(b, s + 11, 2);
  const minute = digitsAt(b, s + 14, 2);
  const sep = b[s + 10];
  if (
    year < 1970 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    b[s + 4] !== 0x2d ||
    b[s + 7] !== 0x2d ||
    b[s + 13] !== COLON ||
    (sep !== 0x54 && sep !== 0x20 && sep !== 0x74)
  ) {
    return -1;
  }
  if (day > (month === 2 && isLeap(year) ? 29 : MONTH_DAYS[month - 1]!)) return -1;
  return daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000;
}

/**
 * The string after an opening quote as the reference's ISO-8601 reader accepts it
 * (parseIsoTimestamp): YYYY-MM-DD[T| |t]HH:MM:SS[.,fraction][Z|z|±HH:MM|±HHMM|±HH]. Sets
 * `tsMs`, and `pos` past the closing quote; false for anything it does not accept.
 */
function readIsoTimestamp(b: Uint8Array, s: number, n: number): boolean {
  let end = s;
  while (end < n && b[end] !== QUOTE) {
    const d = b[end]!;
    if (d < 0x20 || d > 0x7e || d === BACKSLASH) return false;
    end++;
  }
  if (end >= n) return false;
  const len = end - s;
  if (len < 20 || len > 40) return false;
  let minuteMs: number;
  if (minutePrefixMs >= 0 && samePrefix(b, s)) minuteMs = minutePrefixMs;
  else {
    minuteMs = readMinutePrefix(b, s);
    if (minuteMs < 0) return false;
    for (let k = 0; k < PREFIX; k++) minutePrefix[k] = b[s + k]!;
    minutePrefixMs = minuteMs;
  }
  const second = digitsAt(b, s + 17, 2);
  if (second < 0 || second > 59 || b[s + 16] !== COLON) return false;
  let i = s + 19;
  let millis = 0;
  if (b[i] === 0x2e || b[i] === 0x2c) {
    i++;
    const start = i;
    while (i < end) {
      const d = b[i]! - 0x30;
      if (d < 0 || d > 9) break;
      if (i - start < 3) millis = millis * 10 + d;
      i++;
    }
    const count = i - start;
    if (count === 0 || count > 9) return false;
    if (count === 1) millis *= 100;
    else if (count === 2) millis *= 10;
  }
  let offsetMin: number;
  const z = b[i];
  if ((z === 0x5a || z === 0x7a) && i + 1 === end) {
    offsetMin = 0;
  } else if (z === 0x2b || z === 0x2d) {
    const rest = end - i - 1;
    let oh: number;
    let om: number;
    if (rest === 5 && b[i + 3] === COLON) {
      oh = digitsAt(b, i + 1, 2);
      om = digitsAt(b, i + 4, 2);
    } else if (rest === 4) {
      oh = digitsAt(b, i + 1, 2);
      om = digitsAt(b, i + 3, 2);
    } else if (rest === 2) {
      oh = digitsAt(b, i + 1, 2);
      om = 0;
    } else {
      return false;
    }
    if (oh < 0 || om < 0 || oh > 18 || om > 59) return false;
    offsetMin = (oh * 60 + om) * (z === 0x2d ? -1 : 1);
  } else {
    return false;
  }
  const ms = minuteMs + second * 1000 + millis - offsetMin * 60_000;
  if (ms < 0 || ms > MAX_EVENT_TIME_MS) return false;
  tsMs[0] = ms;
  pos = end + 1;
  return true;
}

const fcc = String.fromCharCode;

/**
 * Printable ASCII bytes as a string. A call into C++ (latin1Slice) costs about 60 ns whatever
 * the length; String.fromCharCode with the bytes as arguments stays in V8 and costs a quarter
 * of that for ids up to 16 characters, the usual size.
 */
function asciiString(b: Uint8Array, s: number, e: number): string {
  switch (e - s) {
    case 1:
      return fcc(b[s]!);
    case 2:
      return fcc(b[s]!, b[s + 1]!);
    case 3:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!);
    case 4:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!);
    case 5:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!);
    case 6:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!);
    case 7:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!);
    case 8:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!);
    case 9:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!);
    case 10:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!);
    case 11:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!);
    case 12:
      return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!);
    default:
      return latin1Slice.call(b, s, e);
  }
}
