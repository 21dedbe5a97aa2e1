import { describe, expect, it } from 'vitest';
import { alertsOf } from '../../../test/support/rule-harness.ts';

describe('price_move (hand-computed)', () => {
  it('compares with the first price at or after t − W, fires once per crossing and re-arms when back within', () => {
    const alerts = alertsOf(
      [{ name: 'jump', kind: 'price_move', percent: 1, windowSeconds: 10 }],
      [
        [0, 'A', '100.00', 1], // reference itself
        [5, 'A', '100.50', 1], // vs 100 (t=0): 0.5 %
        [8, 'A', '101.50', 1], // vs 100: 1.5 % — fires
        [9, 'A', '101.20', 1], // vs 100: 1.2 %, still beyond: disarmed
        [12, 'A', '101.30', 1], // window from 2 s: vs 100.50 → 0.796 % — back within, re-armed
        [13, 'A', '102.00', 1], // vs 100.50: 1.4925 % — fires, 1.49
        [15, 'A', '100.00', 1], // window from 5 s (inclusive): vs 100.50 → −0.4975 %
        [25, 'A', '98.995', 1], // window from 15 s: vs 100.00 → −1.005 % — fires, −1.01 (half away from zero)
      ],
    );
    expect(alerts).toEqual([
      'jump:t2 price_move warning {"reference_price":"100.0000","change_percent":"1.50","window_seconds":10}',
      'jump:t5 price_move warning {"reference_price":"100.5000","change_percent":"1.49","window_seconds":10}',
      'jump:t7 price_move warning {"reference_price":"100.0000","change_percent":"-1.01","window_seconds":10}',
    ]);
  });

  it('takes trades in event-time order: a trade that arrives late within the bound still counts in its place', () => {
    const rules = [{ name: 'jump', kind: 'price_move', percent: 1, windowSeconds: 10 }];
    const trades: Array<[number, string, string, number]> = [
      [0, 'A', '100.00', 1],
      [4, 'A', '102.00', 1], // fires against 100
      [2, 'A', '100.00', 1], // arrives after, released before it: within → the 4 s trade still crosses
    ];
    expect(alertsOf(rules, trades, 5_000)).toEqual(['jump:t1 price_move warning {"reference_price":"100.0000","change_percent":"2.00","window_seconds":10}']);
  });
});
