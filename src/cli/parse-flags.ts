import { UsageError } from './usage-error.ts';

/** Commander argument parsers that name the flag in their error. */
export function intFlag(flag: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value.replace(/_/g, ''));
    if (!/^-?[\d_]+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new UsageError(`${flag}: "${value}" is not an integer in ${min}..${max}`);
    }
    return n;
  };
}

export function numberFlag(flag: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new UsageError(`${flag}: "${value}" is not a number in ${min}..${max}`);
    }
    return n;
  };
}

/** "1000" trades/s, or "max" for as fast as possible. (Commander turns a null from a parser into "".) */
export function rateFlag(value: string): number | 'max' {
  if (value === 'max' || value === '0') return 'max';
  return intFlag('--rate', 1, 10_000_000)(value);
}

export function tickersFlag(value: string): string[] {
  const list = value.split(',').map((s) => s.trim().toUpperCase()).filter((s) => s.length > 0);
  const bad = list.find((t) => !/^[A-Z0-9.-]{1,10}$/.test(t));
  if (list.length === 0 || bad !== undefined) {
    throw new UsageError(`--tickers: "${bad ?? value}" is not a ticker (1-10 of A-Z 0-9 . -)`);
  }
  return [...new Set(list)];
}

/** Seconds as a decimal ("30", "0.5") → milliseconds. */
export function secondsFlag(flag: string) {
  return (value: string): number => Math.round(numberFlag(flag, 0.001, 31_536_000)(value) * 1000);
}

/** --start-time: an ISO-8601 time → epoch ms (undefined when the flag was not given). */
export function startTimeMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`--start-time: "${value}" is not an ISO-8601 time`);
  return ms;
}
