/**
 * A strict ISO-8601 reader for trade timestamps. Date.parse is both slow on the hot path and
 * lenient in engine-specific ways (it accepts "2026-11-25" with no zone as UTC, or local time
 * for some shapes); we accept only what the contract says: a date, a time and a zone.
 *
 * Accepted: YYYY-MM-DD[T| ]HH:MM:SS[.f…][Z|±HH:MM|±HHMM]. Fractions beyond milliseconds are
 * truncated: both engines store millisecond precision.
 */
import { MAX_EVENT_TIME_MS as MAX_EPOCH_MS } from './trade.ts';

export type TimestampResult = { ok: true; ms: number } | { ok: false; reason: string };

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

const DAYS_BEFORE_MONTH = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

export function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

export function daysFromCivil(y: number, m: number, d: number): number {
  // Days since 1970-01-01 for a proleptic Gregorian date, without Date objects.
  const yearsBefore = y - 1;
  const days = yearsBefore * 365 + Math.floor(yearsBefore / 4) - Math.floor(yearsBefore / 100) + Math.floor(yearsBefore / 400);
  const dayOfYear = DAYS_BEFORE_MONTH[m - 1]! + (m > 2 && isLeap(y) ? 1 : 0) + d - 1;
  return days + dayOfYear - 719_162; // 719,162 = days from 0001-01-01 to 1970-01-01
}

export function parseIsoTimestamp(s: string): TimestampResult {
  const bad = (why: string): TimestampResult => ({ ok: false, reason: `timestamp "${clip(s)}" ${why}` });
  if (s.length < 20 || s.length > 40) return bad('is not ISO-8601 with a zone (e.g. 2026-11-25T06:01:02.123Z)');
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  const sep = s[10];
  if (
    year < 0 ||
    month < 0 ||
    day < 0 ||
    hour < 0 ||
    minute < 0 ||
    second < 0 ||
    s[4] !== '-' ||
    s[7] !== '-' ||
    (sep !== 'T' && sep !== ' ' && sep !== 't') ||
    s[13] !== ':' ||
    s[16] !== ':'
  ) {
    return bad('is not ISO-8601 with a zone (e.g. 2026-11-25T06:01:02.123Z)');
  }
  if (year < 1970) return bad('is before 1970');
  if (month < 1 || month > 12) return bad('has an invalid month');
  const monthDays = month === 2 ? (isLeap(year) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  if (day < 1 || day > monthDays) return bad('has an invalid day');
  if (hour > 23 || minute > 59 || second > 59) return bad('has an invalid time of day');

  let i = 19;
  let millis = 0;
  if (s[i] === '.' || s[i] === ',') {
    i++;
    const start = i;
    while (i < s.length) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      if (i - start < 3) millis = millis * 10 + c;
      i++;
    }
    const n = i - start;
    if (n === 0 || n > 9) return bad('has an invalid fraction of a second');
    if (n === 1) millis *= 100;
    else if (n === 2) millis *= 10;
  }

  let offsetMin: number;
  const z = s[i];
  if ((z === 'Z' || z === 'z') && i + 1 === s.length) {
    offsetMin = 0;
  } else if (z === '+' || z === '-') {
    const rest = s.length - i - 1;
    let oh: number;
    let om: number;
    if (rest === 5 && s[i + 3] === ':') {
      oh = digits(s, i + 1, 2);
      om = digits(s, i + 4, 2);
    } else if (rest === 4) {
      oh = digits(s, i + 1, 2);
      om = digits(s, i + 3, 2);
    } else if (rest === 2) {
      oh = digits(s, i + 1, 2);
      om = 0;
    } else {
      return bad('has no valid zone (Z or ±HH:MM)');
    }
    if (oh < 0 || om < 0 || oh > 18 || om > 59) return bad('has an invalid zone offset');
    offsetMin = (oh * 60 + om) * (z === '-' ? -1 : 1);
  } else {
    return bad('has no zone (add Z or ±HH:MM)');
  }

  const ms = daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis - offsetMin * 60_000;
  if (ms < 0 || ms > MAX_EPOCH_MS) return bad('is out of range');
  return { ok: true, ms };
}

export function checkEpochMs(n: number): TimestampResult {
  if (!Number.isInteger(n)) return { ok: false, reason: `timestamp ${n} is not an integer number of epoch milliseconds` };
  if (n < 0 || n > MAX_EPOCH_MS) return { ok: false, reason: `timestamp ${n} is out of range` };
  return { ok: true, ms: n };
}

export function clip(s: string, max = 40): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
