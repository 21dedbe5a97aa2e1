import { Engine } from '../../src/engine/engine.ts';
import type { Alert } from '../../src/engine/records.ts';
import { alertDetailValues } from '../../src/rules/alert.ts';
import { specWith, type PipelineSpecInput } from '../../src/spec/spec.ts';

/** A trade for a rule test: event time in seconds from T0, ticker, price text, volume. */
export type RuleTrade = [seconds: number, ticker: string, price: string, volume: number];

export const T0 = Date.UTC(2026, 10, 25, 14, 0, 0);

/**
 * Runs trades (in the order given, as one partition) through the embedded engine with these
 * rules and returns the alerts as `rule:id kind severity {details}`, in the order raised.
 */
export function alertsOf(rules: PipelineSpecInput['rules'], trades: readonly RuleTrade[], outOfOrdernessMs = 0): string[] {
  const engine = new Engine(specWith({ rules, input: { outOfOrdernessMs } }), { now: () => 0 });
  trades.forEach(([s, ticker, price, volume], i) => {
    const value = JSON.stringify({ trade_id: `t${i}`, ticker, price, volume, trade_timestamp: new Date(T0 + s * 1000).toISOString() });
    engine.process({ value, source: 'test', partition: 0, offset: i });
  });
  engine.finish();
  return engine.drain().alerts.map(view);
}

export function view(a: Alert): string {
  return `${a.alertId} ${a.kind} ${a.severity} ${JSON.stringify(alertDetailValues(a))}`;
}
