import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IsoTimestampText } from '../../src/trade/iso-timestamp-text.ts';
import { MAX_EVENT_TIME_MS, formatTimestamp } from '../../src/trade/trade.ts';

describe('ISO timestamp text from a cached minute', () => {
  it('equal toISOString for any time in range, in any order', () => {
    const text = new IsoTimestampText();
    const near = fc.tuple(
      fc.integer({ min: -62_167_219_200_000, max: MAX_EVENT_TIME_MS }),
      fc.array(fc.integer({ min: -120_000, max: 120_000 }), { maxLength: 50 }),
    );
    fc.assert(
      fc.property(near, ([base, steps]) => {
        let ms = base;
        for (const step of [0, ...steps]) {
          ms = Math.min(MAX_EVENT_TIME_MS, Math.max(-62_167_219_200_000, ms + step));
          expect(text.format(ms)).toBe(formatTimestamp(ms));
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('edges: epoch, before it, minute and year boundaries, the last accepted time', () => {
    const text = new IsoTimestampText();
    for (const ms of [0, -1, 59_999, 60_000, -60_000, -60_001, 999, 1_000, Date.UTC(2026, 0, 1) - 1, Date.UTC(2026, 0, 1), MAX_EVENT_TIME_MS, 0]) {
      expect(text.format(ms)).toBe(formatTimestamp(ms));
    }
  });

  it('a fraction of a millisecond, inside the minute it has cached, is truncated as Date does', () => {
    const text = new IsoTimestampText();
    const minute = Date.UTC(2026, 0, 1, 14, 7);
    expect(text.format(minute + 1_000)).toBe('2026-01-01T14:07:01.000Z');
    expect(text.format(minute + 12_345.5)).toBe('2026-01-01T14:07:12.345Z');
    expect(text.format(minute + 12_345.5)).toBe(formatTimestamp(minute + 12_345.5));
  });
});
