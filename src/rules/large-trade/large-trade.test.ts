import { describe, expect, it } from 'vitest';
import { alertsOf } from '../../../test/support/rule-harness.ts';

describe('large_trade (hand-computed)', () => {
  it('volume strictly above the threshold, the ticker override in its place, as each trade is read (late ones too)', () => {
    const rules = [{ name: 'block', kind: 'large_trade', threshold: 1000, overrides: { AAPL: 5000 }, severity: 'critical' }];
    const alerts = alertsOf(
      rules,
      [
        [10, 'MSFT', '1.00', 1000], // at the threshold: no
        [11, 'MSFT', '1.00', 1001],
        [12, 'AAPL', '1.00', 4999], // below AAPL's override
        [13, 'AAPL', '1.00', 5001],
        [1, 'MSFT', '1.00', 2000], // 12 s late (bound 5 s): still alerted
      ],
      5_000,
    );
    expect(alerts).toEqual([
      'block:t1 large_trade critical {"threshold":1000}',
      'block:t3 large_trade critical {"threshold":5000}',
      'block:t4 large_trade critical {"threshold":1000}',
    ]);
  });

  it('tickers filter; a cooldown keeps the first hit of each ticker per slice of event time, in event-time order', () => {
    const rules = [{ name: 'big', kind: 'large_trade', threshold: 10, cooldownSeconds: 60, tickers: ['AAPL', 'MSFT'] }];
    const alerts = alertsOf(
      rules,
      [
        [0, 'AAPL', '1.00', 11], // slice 14:00 — alerts
        [30, 'AAPL', '1.00', 12], // same slice: suppressed
        [5, 'MSFT', '1.00', 20], // other ticker: alerts
        [59.999, 'AAPL', '1.00', 12], // still 14:00: suppressed
        [60, 'AAPL', '1.00', 13], // next slice: alerts
        [61, 'NVDA', '1.00', 99], // not in tickers
      ],
      60_000,
    );
    // Released in event-time order: MSFT (5 s, on time within the 60 s bound) between AAPL's.
    expect(alerts).toEqual([
      'big:t0 large_trade warning {"threshold":10}',
      'big:t2 large_trade warning {"threshold":10}',
      'big:t4 large_trade warning {"threshold":10}',
    ]);
  });
});
