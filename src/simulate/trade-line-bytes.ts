import { copy, IsoTimestampBytes } from '../trade/iso-timestamp-bytes.ts';
import type { TradeDraw } from './market.ts';

const encoder = new TextEncoder();
const DIGITS36 = encoder.encode('0123456789abcdefghijklmnopqrstuvwxyz');
const MIN_ID_DIGITS = 7;
const ZERO = 0x30;
const MINUS = 0x2d;
const DOT = 0x2e;

/**
 * A simulated trade's contract JSON written as UTF-8 bytes straight into a caller's buffer:
 * byte for byte the UTF-8 of JSON.stringify(tradeToJson(t)), built from the market's parts
 * without a string or an object per trade. The key order is the contract's; ids (base 36),
 * prices, volumes and timestamps never need escaping; each ticker's part is encoded once, by
 * JSON.stringify, so any ticker is exact.
 */
export class TradeLineBytes {
  /** No line is longer than this. */
  readonly maxLineBytes: number;
  /** `{"trade_id":"` and the market's id prefix. */
  readonly #head: Uint8Array;
  /** Per ticker: `","ticker":"T","price":"`. */
  readonly #tickers: Uint8Array[];
  readonly #volumeKey = encoder.encode('","volume":');
  readonly #timeKey = encoder.encode(',"trade_timestamp":"');
  readonly #time = new IsoTimestampBytes();

  constructor(idPrefix: string, tickers: readonly string[]) {
    this.#head = encoder.encode(`{"trade_id":${JSON.stringify(idPrefix).slice(0, -1)}`);
    this.#tickers = tickers.map((t) => encoder.encode(`","ticker":${JSON.stringify(t)},"price":"`));
    const longestTicker = Math.max(0, ...this.#tickers.map((b) => b.length));
    // serial ≤ 2^53 (11 base-36 digits), price ≤ 6 + 1 + 4, volume and sign ≤ 17, a timestamp
    // of year ±275760 ≤ 27, `"}`.
    this.maxLineBytes = this.#head.length + 11 + longestTicker + 11 + this.#volumeKey.length + 17 + this.#timeKey.length + 27 + 2;
  }

  /** Writes the line of `d` at `pos` and returns where it ends. */
  write(buf: Uint8Array, pos: number, d: TradeDraw): number {
    let p = copy(buf, pos, this.#head);
    p = writeBase36(buf, p, d.serial);
    p = copy(buf, p, this.#tickers[d.tickerIndex]!);
    const whole = Math.trunc(d.priceE4 / 10_000);
    p = writeDecimal(buf, p, whole);
    buf[p++] = DOT;
    let frac = d.priceE4 - whole * 10_000;
    for (let k = p + 3; k >= p; k--) {
      const q = Math.floor(frac / 10);
      buf[k] = ZERO + frac - q * 10;
      frac = q;
    }
    p = copy(buf, p + 4, this.#volumeKey);
    p = writeDecimal(buf, p, d.volume);
    p = copy(buf, p, this.#timeKey);
    p = this.#time.write(buf, p, d.tsMs);
    buf[p++] = 0x22;
    buf[p++] = 0x7d;
    return p;
  }
}

/** An integer (a safe one, as JSON.stringify prints it). */
function writeDecimal(buf: Uint8Array, pos: number, n: number): number {
  if (n < 0) {
    buf[pos++] = MINUS;
    n = -n;
  }
  let len = 1;
  for (let m = n; m >= 10; m = Math.floor(m / 10)) len++;
  for (let k = pos + len - 1; k >= pos; k--) {
    const q = Math.floor(n / 10);
    buf[k] = ZERO + n - q * 10;
    n = q;
  }
  return pos + len;
}

/** A serial in base 36, zero-padded to at least 7 digits. */
function writeBase36(buf: Uint8Array, pos: number, n: number): number {
  let len = 1;
  for (let m = n; m >= 36; m = Math.floor(m / 36)) len++;
  if (len < MIN_ID_DIGITS) len = MIN_ID_DIGITS;
  for (let k = pos + len - 1; k >= pos; k--) {
    const q = Math.floor(n / 36);
    buf[k] = DIGITS36[n - q * 36]!;
    n = q;
  }
  return pos + len;
}
