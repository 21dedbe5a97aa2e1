import { describe, expect, it } from 'vitest';
import type { AlertJson as WireAlertJson } from '../../src/kafka/alert-json.ts';
import { alertFromWire } from '../../src/server/live-events.ts';

const wire = {
  alert_id: 'block:t-1',
  kind: 'large_trade',
  trade_id: 't-1',
  ticker: 'AAPL',
  price: '187.2300',
  volume: 2_000_000,
  trade_timestamp: '2026-11-25T14:00:00.000Z',
  threshold: 1_000_000,
  detected_at: '2026-11-25T14:00:00.010Z',
  message: 'm',
} as WireAlertJson;

describe('alertFromWire (alerts-topic record → API shape)', () => {
  it('keeps the rule and severity a producer sends', () => {
    expect(alertFromWire({ ...wire, rule: 'block', severity: 'critical' } as WireAlertJson)).toMatchObject({ rule: 'block', severity: 'critical' });
  });

  it('takes the rule from the alert_id and severity "warning" from a producer that predates them', () => {
    const a = alertFromWire(wire);
    expect(a).toMatchObject({ alert_id: 'block:t-1', rule: 'block', severity: 'warning', threshold: 1_000_000, baseline_mean: null });
    expect(Object.keys(a).slice(0, 4)).toEqual(['alert_id', 'kind', 'rule', 'severity']);
  });

  it('does not pass on a severity it does not know', () => {
    expect(alertFromWire({ ...wire, severity: 'apocalyptic' } as unknown as WireAlertJson).severity).toBe('warning');
    expect(alertFromWire({ ...wire, alert_id: 'noprefix' }).rule).toBe('noprefix');
  });
});
