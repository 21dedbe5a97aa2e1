import { describe, expect, it } from 'vitest';
import { alertsOf } from '../../../test/support/rule-harness.ts';

describe('volume_spike (hand-computed)', () => {
  it('volume above factor × the mean of the previous lookback trades, in event-time order, once lookback trades exist', () => {
    const alerts = alertsOf(
      [{ name: 'spike', kind: 'volume_spike', factor: 2.5, lookback: 2 }],
      [
        [0, 'A', '1.00', 10],
        [2, 'A', '1.00', 11], // baseline so far: 1 trade
        [1, 'A', '1.00', 100], // released between the two above: baseline [10] only — no alert
        [3, 'A', '1.00', 140], // previous two (event-time order): 100, 11 → mean 55.5; 140 > 138.75
        [4, 'A', '1.00', 300], // previous two: 11, 140 → mean 75.5; 300 > 188.75
        [5, 'A', '1.00', 550], // previous: 140, 300 → mean 220; 550 = 2.5 × 220: not above
      ],
      5_000,
    );
    expect(alerts).toEqual([
      'spike:t3 volume_spike warning {"baseline_mean":"55.5000","factor":2.5,"lookback":2}',
      'spike:t4 volume_spike warning {"baseline_mean":"75.5000","factor":2.5,"lookback":2}',
    ]);
  });
});
