import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TradeIdDeduper } from '../../src/engine/trade-id-deduper.ts';
import { TradeIdSet } from '../../src/engine/trade-id-set.ts';

const id = fc.oneof(
  fc.stringMatching(/^[a-z0-9-]{1,12}$/),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ minLength: 250, maxLength: 300, unit: fc.constantFrom('a', 'é', '\u{1F600}') }),
  fc.constantFrom('', 'a', 'A', 'é', '\u00ff', '\u0100', 'ab', 'ba'),
);

describe('TradeIdSet behaves as a Set of strings', () => {
  it('on random adds and lookups, through growth and clears', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('add', 'add', 'has', 'clear'), id), { maxLength: 400 }), (ops) => {
        const set = new TradeIdSet(4);
        const model = new Set<string>();
        for (const [op, x] of ops) {
          if (op === 'add') {
            expect(set.add(x)).toBe(!model.has(x));
            model.add(x);
          } else if (op === 'has') expect(set.has(x)).toBe(model.has(x));
          else {
            set.clear();
            model.clear();
          }
          expect(set.size).toBe(model.size);
        }
        for (const x of model) expect(set.has(x)).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it('holds a million ids exactly', () => {
    const set = new TradeIdSet();
    for (let i = 0; i < 1_000_000; i++) expect(set.add(`t-${i.toString(36)}`)).toBe(true);
    for (let i = 0; i < 1_000_000; i += 997) expect(set.add(`t-${i.toString(36)}`)).toBe(false);
    expect(set.has('t-')).toBe(false);
    expect(set.size).toBe(1_000_000);
  });
});

describe('TradeIdDeduper', () => {
  it('remembers an id for at least the horizon of watermark progress, and forgets it after two', () => {
    const d = new TradeIdDeduper(1_000);
    d.advance(0);
    expect(d.admit('a')).toBe(true);
    expect(d.admit('a')).toBe(false);
    d.advance(999);
    expect(d.admit('a')).toBe(false);
    d.advance(1_000); // a new generation: 'a' is in the previous one
    expect(d.admit('a')).toBe(false);
    expect(d.admit('b')).toBe(true);
    d.advance(2_000); // 'a' dropped with its generation, 'b' kept
    expect(d.admit('b')).toBe(false);
    expect(d.admit('a')).toBe(true);
  });
});
