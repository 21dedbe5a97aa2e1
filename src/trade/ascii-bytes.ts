/** Writing ASCII text into a byte buffer without a string: the simulator's lines are made so. */

const DIGITS = new TextEncoder().encode('0123456789abcdefghijklmnopqrstuvwxyz');

/** Copies `part` to `pos`; where it ends. */
export function copyBytes(buf: Uint8Array, pos: number, part: Uint8Array): number {
  for (let i = 0; i < part.length; i++) buf[pos + i] = part[i]!;
  return pos + part.length;
}

/**
 * A non-negative safe integer in `radix` (2–36, lower-case letters), zero-padded to at least
 * `width` digits; where it ends.
 */
export function writeDigits(buf: Uint8Array, pos: number, n: number, width = 1, radix = 10): number {
  let len = 1;
  for (let m = n; m >= radix; m = Math.floor(m / radix)) len++;
  if (len < width) len = width;
  for (let k = pos + len - 1; k >= pos; k--) {
    const q = Math.floor(n / radix);
    buf[k] = DIGITS[n - q * radix]!;
    n = q;
  }
  return pos + len;
}
