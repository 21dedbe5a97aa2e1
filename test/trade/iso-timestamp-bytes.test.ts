import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IsoTimestampBytes } from '../../src/trade/iso-timestamp-bytes.ts';
import { MAX_EVENT_TIME_MS, formatTimestamp } from '../../src/trade/trade.ts';

/** What `write` puts in a buffer, as text; the bytes around it must stay as they were. */
function textOf(bytes: IsoTimestampBytes, ms: number): string {
  const buf = new Uint8Array(40).fill(0x7e);
  const end = bytes.write(buf, 5, ms);
  expect(end - 5).toBeLessThanOrEqual(27);
  expect([...buf.subarray(0, 5), ...buf.subarray(end)].every((b) => b === 0x7e)).toBe(true);
  return new TextDecoder().decode(buf.subarray(5, end));
}

describe('ISO timestamp bytes from a cached minute', () => {
  it('equal toISOString for any time in range, in any order', () => {
    const text = new IsoTimestampBytes();
    const near = fc.tuple(
      fc.integer({ min: -62_167_219_200_000, max: MAX_EVENT_TIME_MS }),
      fc.array(fc.integer({ min: -120_000, max: 120_000 }), { maxLength: 50 }),
    );
    fc.assert(
      fc.property(near, ([base, steps]) => {
        let ms = base;
        for (const step of [0, ...steps]) {
          ms = Math.min(MAX_EVENT_TIME_MS, Math.max(-62_167_219_200_000, ms + step));
          expect(textOf(text, ms)).toBe(formatTimestamp(ms));
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('edges: epoch, before it, minute and year boundaries, the last accepted time', () => {
    const text = new IsoTimestampBytes();
    for (const ms of [
      0,
      -1,
      59_999,
      60_000,
      -60_000,
      -60_001,
      999,
      1_000,
      Date.UTC(2026, 0, 1) - 1,
      Date.UTC(2026, 0, 1),
      MAX_EVENT_TIME_MS,
      8_640_000_000_000_000,
      -8_640_000_000_000_000,
      0,
    ]) {
      expect(textOf(text, ms)).toBe(formatTimestamp(ms));
    }
  });

  it('a fraction of a millisecond, inside the minute it has cached, is truncated as Date does', () => {
    const text = new IsoTimestampBytes();
    const minute = Date.UTC(2026, 0, 1, 14, 7);
    expect(textOf(text, minute + 1_000)).toBe('2026-01-01T14:07:01.000Z');
    expect(textOf(text, minute + 12_345.5)).toBe('2026-01-01T14:07:12.345Z');
    expect(textOf(text, minute + 12_345.5)).toBe(formatTimestamp(minute + 12_345.5));
  });
});
