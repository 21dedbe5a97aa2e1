import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEDUPE_GENERATIONS, TradeIdDeduper } from '../../src/engine/trade-id-deduper.ts';
import { TradeIdSet } from '../../src/engine/trade-id-set.ts';

const id = fc.oneof(
  fc.stringMatching(/^[a-z0-9-]{1,12}$/),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ minLength: 250, maxLength: 300, unit: fc.constantFrom('a', 'é', '\u{1F600}') }),
  fc.constantFrom('', 'a', 'A', 'é', '\u00ff', '\u0100', 'ab', 'ba'),
);

/** The model: one Set per generation, oldest first. */
class ModelSet {
  generations: Set<string>[] = [new Set()];
  has(x: string): boolean {
    return this.generations.some((g) => g.has(x));
  }
  add(x: string): boolean {
    if (this.has(x)) return false;
    this.generations.at(-1)!.add(x);
    return true;
  }
  get size(): number {
    return this.generations.reduce((n, g) => n + g.size, 0);
  }
}

describe('TradeIdSet behaves as a Set of strings in generations', () => {
  it('on random adds, lookups, new generations and drops, through the ring wrapping, growing and shrinking', () => {
    const op = fc.oneof(
      { arbitrary: fc.tuple(fc.constant('add' as const), id), weight: 6 },
      { arbitrary: fc.tuple(fc.constant('has' as const), id), weight: 2 },
      { arbitrary: fc.tuple(fc.constant('start' as const), fc.constant('')), weight: 1 },
      { arbitrary: fc.tuple(fc.constant('drop' as const), fc.constant('')), weight: 1 },
    );
    fc.assert(
      // A window of `keep` generations slides like the deduper's, so the ring wraps with entries on both sides.
      fc.property(fc.array(op, { maxLength: 600 }), fc.integer({ min: 1, max: 4 }), (ops, keep) => {
        const set = new TradeIdSet(4);
        const model = new ModelSet();
        for (const [kind, x] of ops) {
          if (kind === 'add') expect(set.add(x)).toBe(model.add(x));
          else if (kind === 'has') expect(set.has(x)).toBe(model.has(x));
          else if (kind === 'start') {
            set.startGeneration();
            model.generations.push(new Set());
            while (set.generations > keep) {
              set.dropOldest();
              model.generations.shift();
            }
          } else {
            set.dropOldest();
            if (model.generations.length > 1) model.generations.shift();
            else model.generations[0]!.clear();
          }
          expect(set.size).toBe(model.size);
          expect(set.generations).toBe(model.generations.length);
        }
        for (const g of model.generations) for (const x of g) expect(set.has(x)).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it('in a sliding window of short ids, where the ring wraps and fills to the byte', () => {
    const step = fc.record({ adds: fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 12 }), keep: fc.integer({ min: 1, max: 3 }) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        const set = new TradeIdSet(4);
        const model = new ModelSet();
        for (const { adds, keep } of steps) {
          for (const n of adds) expect(set.add(`${n % 7}`.repeat(1 + (n % 3)) + n)).toBe(model.add(`${n % 7}`.repeat(1 + (n % 3)) + n));
          set.startGeneration();
          model.generations.push(new Set());
          while (set.generations > keep) {
            set.dropOldest();
            model.generations.shift();
          }
          expect(set.size).toBe(model.size);
          for (const g of model.generations) for (const x of g) expect(set.has(x)).toBe(true);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('holds a million ids exactly', () => {
    const set = new TradeIdSet();
    for (let i = 0; i < 1_000_000; i++) expect(set.add(`t-${i.toString(36)}`)).toBe(true);
    for (let i = 0; i < 1_000_000; i += 997) expect(set.add(`t-${i.toString(36)}`)).toBe(false);
    expect(set.has('t-')).toBe(false);
    expect(set.size).toBe(1_000_000);
  });

  it('reuses its ring and table in a steady window, and gives memory back after a burst', () => {
    const set = new TradeIdSet();
    let next = 0;
    const generation = (n: number): void => {
      set.startGeneration();
      for (let i = 0; i < n; i++) set.add(`s-${(next++).toString(36)}`);
      while (set.generations > 9) set.dropOldest();
    };
    for (let g = 0; g < 20; g++) generation(10_000);
    const steady = set.bytes;
    for (let g = 0; g < 200; g++) generation(10_000);
    expect(set.bytes).toBe(steady);
    expect(set.size).toBe(90_000);
    // Every id of the last nine generations is held, the one before is forgotten.
    for (let i = next - 90_000; i < next; i += 7) expect(set.has(`s-${i.toString(36)}`)).toBe(true);
    for (let i = next - 100_000; i < next - 90_000; i += 7) expect(set.has(`s-${i.toString(36)}`)).toBe(false);
    for (let g = 0; g < 9; g++) generation(200_000);
    expect(set.bytes).toBeGreaterThan(4 * steady);
    for (let g = 0; g < 20; g++) generation(1_000);
    expect(set.bytes).toBeLessThan(steady);
  });

  it('sized for a window, holds it without growing, and keeps its table when the window empties', () => {
    const set = TradeIdSet.sizedFor(300_000, 16);
    const reserved = set.bytes;
    // Three quarters full at most: 300,000 ids need 400,000 slots, so 2^19 of 8 bytes.
    expect(reserved).toBe(2 ** 19 * 8 + 300_000 * 16);
    for (let i = 0; i < 300_000; i++) set.add(`1z141z3-${i.toString(36).padStart(7, '0')}`);
    expect(set.bytes).toBe(reserved);
    expect(set.size).toBe(300_000);
    set.startGeneration();
    set.dropOldest();
    expect(set.size).toBe(0);
    expect(set.bytes).toBe(reserved);
    // Beyond the estimate it grows as an unsized set does.
    for (let i = 0; i < 400_000; i++) set.add(`x${i}`);
    expect(set.bytes).toBeGreaterThan(reserved);
    expect(set.size).toBe(400_000);
  });

  it('reserves no more than its cap for an absurd estimate, and the minimum for none', () => {
    expect(TradeIdSet.sizedFor(1e12, 16).bytes).toBe(2 ** 22 * 8 + (3 << 20) * 16);
    expect(TradeIdSet.sizedFor(0, 16).bytes).toBe(new TradeIdSet().bytes);
  });
});

describe('TradeIdDeduper', () => {
  it('sizes its window for what the source says the longest span it holds can bring', () => {
    const asked: number[] = [];
    const d = new TradeIdDeduper(80_000, (ms) => {
      asked.push(ms);
      return 200_000;
    });
    // An id is held for at most 9/8 of the horizon.
    expect(asked).toEqual([90_000]);
    expect(d.bytes).toBe(TradeIdSet.sizedFor(200_000, 16).bytes);
    expect(new TradeIdDeduper(80_000).bytes).toBe(new TradeIdSet().bytes);
  });

  it(`remembers an id for at least the horizon of watermark progress, and at most 1 + 1/${DEDUPE_GENERATIONS} of it`, () => {
    const d = new TradeIdDeduper(8_000); // generations of 1 s of watermark
    d.advance(0);
    expect(d.admit('a')).toBe(true);
    expect(d.admit('a')).toBe(false);
    d.advance(999);
    expect(d.admit('a')).toBe(false);
    d.advance(1_000); // a new generation: 'a' is in the previous one
    expect(d.admit('b')).toBe(true);
    for (let t = 2_000; t <= 8_000; t += 1_000) d.advance(t);
    expect(d.admit('a')).toBe(false); // 'a' is held through the horizon …
    d.advance(8_999);
    expect(d.admit('a')).toBe(false);
    d.advance(9_000); // … and dropped with its generation at 9/8 of it; 'b' is kept
    expect(d.admit('b')).toBe(false);
    expect(d.admit('a')).toBe(true);
    d.advance(100_000); // a jump starts one generation and drops one: 'b''s (the oldest); 'a' again is in the newest but one
    expect(d.admit('a')).toBe(false);
    expect(d.admit('b')).toBe(true);
  });

  it('keeps every id of the last horizon over a long stream', () => {
    const d = new TradeIdDeduper(60_000);
    for (let t = 0; t < 600_000; t += 10) {
      d.advance(t);
      expect(d.admit(`x${t}`)).toBe(true);
      if (t >= 60_000) expect(d.admit(`x${t - 60_000}`)).toBe(false);
      if (t >= 67_500 + 10) expect(d.admit(`x${t - 67_500 - 10}`)).toBe(true);
    }
  });
});
