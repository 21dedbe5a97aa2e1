import { formatTimestamp } from './trade.ts';

const encoder = new TextEncoder();
const ZERO = 0x30;

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
    if (!Number.isInteger(ms)) return copy(buf, pos, encoder.encode(formatTimestamp(ms)));
    const minuteMs = Math.floor(ms / 60_000) * 60_000;
    if (minuteMs !== this.#minuteMs) {
      this.#minuteMs = minuteMs;
      // "…T14:07:00.000Z" without "00.000Z"
      this.#minute = encoder.encode(formatTimestamp(minuteMs).slice(0, -7));
    }
    const p = copy(buf, pos, this.#minute);
    const rest = ms - minuteMs;
    const sec = Math.floor(rest / 1000);
    const milli = rest - sec * 1000;
    const tens = Math.floor(sec / 10);
    const hundreds = Math.floor(milli / 100);
    const ten = Math.floor((milli - hundreds * 100) / 10);
    buf[p] = ZERO + tens;
    buf[p + 1] = ZERO + sec - tens * 10;
    buf[p + 2] = 0x2e; // .
    buf[p + 3] = ZERO + hundreds;
    buf[p + 4] = ZERO + ten;
    buf[p + 5] = ZERO + milli - hundreds * 100 - ten * 10;
    buf[p + 6] = 0x5a; // Z
    return p + 7;
  }
}

export function copy(buf: Uint8Array, pos: number, part: Uint8Array): number {
  for (let i = 0; i < part.length; i++) buf[pos + i] = part[i]!;
  return pos + part.length;
}
