import { copyBytes, writeDigits } from '../trade/ascii-bytes.ts';
import { IsoTimestampBytes } from '../trade/iso-timestamp-bytes.ts';
import type { TradeDraw } from './market.ts';

const encoder = new TextEncoder();
const MIN_ID_DIGITS = 7;

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
    let p = writeDigits(buf, copyBytes(buf, pos, this.#head), d.serial, MIN_ID_DIGITS, 36);
    p = copyBytes(buf, p, this.#tickers[d.tickerIndex]!);
    const whole = Math.trunc(d.priceE4 / 10_000);
    p = writeDigits(buf, p, whole);
    buf[p++] = 0x2e; // .
    p = writeDigits(buf, p, d.priceE4 - whole * 10_000, 4);
    p = copyBytes(buf, p, this.#volumeKey);
    if (d.volume < 0) buf[p++] = 0x2d; // -
    p = writeDigits(buf, p, Math.abs(d.volume));
    p = this.#time.write(buf, copyBytes(buf, p, this.#timeKey), d.tsMs);
    buf[p] = 0x22; // "
    buf[p + 1] = 0x7d; // }
    return p + 2;
  }
}
