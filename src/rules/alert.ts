import type { Trade } from '../trade/trade.ts';
import type { AlertDetailValues } from './alert-columns.ts';
import { type AlertDetails, kindOf } from './registry.ts';
import type { Severity } from './severity.ts';

/** An alert: which rule fired on which trade, and the kind's own details (a union by `kind`). */
export type Alert = AlertDetails & {
  /** `<rule>:<trade_id>`: stable, so a replay can be deduplicated downstream. */
  readonly alertId: string;
  readonly rule: string;
  readonly severity: Severity;
  readonly trade: Trade;
  readonly detectedAtMs: number;
  readonly message: string;
};

/** The kind's fields flattened for the table and the JSON (the only places they are). */
export function alertDetailValues(a: Alert): AlertDetailValues {
  return kindOf(a.kind)!.columns(a as never);
}
