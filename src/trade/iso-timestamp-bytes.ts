import { copyBytes, writeDigits } from './ascii-bytes.ts';
import { formatTimestamp } from './trade.ts';

const encoder = new TextEncoder();

/**
 * `formatTimestamp` (Date#toISOString) written as bytes, for a stream of nearby times:
 * consecutive trades mostly share their minute, whose text is encoded once, so a line costs a
 * few digits instead of a Date and a string. The simulator's lines use it: toISOString per
 * trade was once the largest item of the end-to-end PostgreSQL run's profile.
 */
export class IsoTimestampBytes {
  #minuteMs = Number.NaN;
  #minute: Uint8Array = new Uint8Array(0);

  /** Writes the text of `ms` at `pos` (at most 27 bytes) and returns where it ends. */
  write(buf: Uint8Array, pos: number, ms: number): number {
    // Date truncates a fraction of a millisecond; the arithmetic below would print it.
    if (!Number.isInteger(ms)) return copyBytes(buf, pos, encoder.encode(formatTimestamp(ms)));
    const minuteMs = Math.floor(ms / 60_000) * 60_000;
    if (minuteMs !== this.#minuteMs) {
      this.#minuteMs = minuteMs;
      // "…T14:07:00.000Z" without "00.000Z"
      this.#minute = encoder.encode(formatTimestamp(minuteMs).slice(0, -7));
    }
    const rest = ms - minuteMs;
    const sec = Math.floor(rest / 1000);
    let p = writeDigits(buf, copyBytes(buf, pos, this.#minute), sec, 2);
    buf[p++] = 0x2e; // .
    p = writeDigits(buf, p, rest - sec * 1000, 3);
    buf[p] = 0x5a; // Z
    return p + 1;
  }
}
