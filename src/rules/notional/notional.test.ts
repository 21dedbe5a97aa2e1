import { describe, expect, it } from 'vitest';
import { alertsOf } from '../../../test/support/rule-harness.ts';

describe('notional (hand-computed)', () => {
  it('price × volume strictly above the amount, exactly, past 2^53 too', () => {
    const alerts = alertsOf(
      [{ name: 'whale', kind: 'notional', amount: 100_000_100 }],
      [
        [0, 'A', '100.0001', 1_000_000], // 100,000,100.0000: equal, no alert
        [1, 'A', '100.0002', 1_000_000], // 100,000,200.0000
        [2, 'B', '999999.9999', 2_147_483_647], // 2,147,483,646,785,268.3353 (× 10^4 is past 2^53)
      ],
    );
    expect(alerts).toEqual([
      'whale:t1 notional warning {"amount":"100000100.00","notional":"100000200.0000"}',
      'whale:t2 notional warning {"amount":"100000100.00","notional":"2147483646785251.6353"}',
    ]);
  });

  it('an amount with cents: one cent above it alerts, equal does not', () => {
    const alerts = alertsOf(
      [{ name: 'n', kind: 'notional', amount: 1234.56 }],
      [
        [0, 'A', '12.3456', 100], // 1234.5600
        [1, 'A', '1.2346', 1000], // 1234.6000
      ],
    );
    expect(alerts).toEqual(['n:t1 notional warning {"amount":"1234.56","notional":"1234.6000"}']);
  });
});
