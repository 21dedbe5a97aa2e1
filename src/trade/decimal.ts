/**
 * Exact decimal reading for prices. A price travels as text from the wire to NUMERIC(10,4)
 * and never through a float, so 0.1 + 0.2 style errors cannot reach the database.
 */
export type DecimalResult = { ok: true; e4: number } | { ok: false; reason: string };

const POW10 = [1, 10, 100, 1000, 10000];

/** "187.23" → 1872300. Up to 6 integer digits and 4 decimals; a leading "+" or exponent is refused. */
export function parseDecimalE4(s: string): DecimalResult {
  const n = s.length;
  if (n === 0) return { ok: false, reason: 'price is empty' };
  let i = 0;
  let whole = 0;
  let intDigits = 0;
  while (i < n) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    whole = whole * 10 + c;
    intDigits++;
    i++;
  }
  let frac = 0;
  let fracDigits = 0;
  if (i < n && s.charCodeAt(i) === 46 /* . */) {
    i++;
    while (i < n) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      frac = frac * 10 + c;
      fracDigits++;
      i++;
      if (fracDigits > 9) break;
    }
    if (fracDigits === 0) return { ok: false, reason: `price "${short(s)}" is not a decimal number` };
  }
  if (i !== n || intDigits === 0) return { ok: false, reason: `price "${short(s)}" is not a decimal number` };
  if (fracDigits > 4) {
    // Trailing zeros beyond the 4th decimal do not change the value; anything else would be rounded.
    const extra = fracDigits - 4;
    const divisor = 10 ** extra;
    if (frac % divisor !== 0) return { ok: false, reason: `price "${short(s)}" has more than 4 decimals` };
    frac /= divisor;
    fracDigits = 4;
  }
  // Leading zeros are harmless; count significant integer digits only.
  if (whole >= 1_000_000) return { ok: false, reason: `price "${short(s)}" is not below 1,000,000` };
  const e4 = whole * 10_000 + frac * POW10[4 - fracDigits]!;
  if (e4 <= 0) return { ok: false, reason: `price "${short(s)}" is not positive` };
  return { ok: true, e4 };
}

/** A JSON number price: its shortest round-trip text is what the sender meant (187.23, not 187.22999…). */
export function parseNumberE4(x: number): DecimalResult {
  if (!Number.isFinite(x)) return { ok: false, reason: 'price is not a finite number' };
  if (x <= 0) return { ok: false, reason: `price ${x} is not positive` };
  if (x >= 1_000_000) return { ok: false, reason: `price ${x} is not below 1,000,000` };
  const text = String(x);
  if (text.includes('e')) return { ok: false, reason: `price ${text} has more than 4 decimals` };
  return parseDecimalE4(text);
}

function short(s: string): string {
  return s.length > 24 ? `${s.slice(0, 24)}…` : s;
}

/** Half-up rounding of numerator/denominator (both non-negative) to an integer, exactly. */
export function divideHalfUp(numerator: bigint, denominator: bigint): bigint {
  const q = numerator / denominator;
  const r = numerator - q * denominator;
  return r * 2n >= denominator ? q + 1n : q;
}
