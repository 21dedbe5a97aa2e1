import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventTimeQueue } from '../../src/engine/event-time-queue.ts';
import type { Trade } from '../../src/trade/trade.ts';

const trade = (n: number, tsMs: number, ticker = 'A'): Trade => ({ tradeId: `t${n}`, ticker, priceE4: 1, volume: 1, tsMs });

describe('EventTimeQueue', () => {
  it('releases in (event time, arrival) order whatever the mix of in-order and late pushes', () => {
    const step = fc.oneof(
      { weight: 6, arbitrary: fc.record({ push: fc.integer({ min: -30, max: 10 }) }) },
      { weight: 1, arbitrary: fc.record({ release: fc.integer({ min: -20, max: 5 }) }) },
      { weight: 1, arbitrary: fc.record({ forget: fc.constantFrom('A', 'B') }) },
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 300 }), fc.boolean(), (steps, track) => {
        const q = new EventTimeQueue({ trackArrival: track });
        let model: Trade[] = [];
        let clock = 0;
        let n = 0;
        const released: Trade[] = [];
        const expected: Trade[] = [];
        const order = (a: Trade, b: Trade): number => a.tsMs - b.tsMs || Number(a.tradeId.slice(1)) - Number(b.tradeId.slice(1));
        for (const s of steps) {
          if ('push' in s) {
            clock = Math.max(clock, clock + s.push);
            const t = trade(n++, clock + Math.min(0, s.push), n % 3 === 0 ? 'B' : 'A');
            q.push(t);
            model.push(t);
          } else if ('release' in s) {
            const wm = clock + s.release;
            q.releaseUpTo(wm, (t) => released.push(t));
            model.sort(order);
            while (model.length > 0 && model[0]!.tsMs <= wm) expected.push(model.shift()!);
          } else {
            q.forget(new Set([s.forget]));
            model = model.filter((t) => t.ticker !== s.forget);
          }
          expect(q.size).toBe(model.length);
        }
        q.releaseUpTo(Number.POSITIVE_INFINITY, (t) => released.push(t));
        expected.push(...model.sort(order));
        expect(released.map((t) => t.tradeId)).toEqual(expected.map((t) => t.tradeId));
      }),
      { numRuns: 3_000 },
    );
  });

  it('keeps the order through a long in-order run with stragglers (the run grows past its first ring)', () => {
    const q = new EventTimeQueue();
    const model: Trade[] = [];
    const released: string[] = [];
    let seed = 7;
    const rand = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let i = 0; i < 20_000; i++) {
      const ts = i - (rand() < 0.05 ? Math.floor(rand() * 3_000) : 0);
      const t = trade(i, ts);
      q.push(t);
      model.push(t);
      if (i % 2_500 === 0) q.releaseUpTo(i - 4_000, (x) => released.push(x.tradeId));
    }
    q.releaseUpTo(Number.POSITIVE_INFINITY, (x) => released.push(x.tradeId));
    const sorted = [...model].sort((a, b) => a.tsMs - b.tsMs || Number(a.tradeId.slice(1)) - Number(b.tradeId.slice(1)));
    expect(released).toEqual(sorted.map((t) => t.tradeId));
  });
});
