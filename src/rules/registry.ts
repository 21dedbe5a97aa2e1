import { largeTrade } from './large-trade/large-trade.ts';
import { notional } from './notional/notional.ts';
import { priceMove } from './price-move/price-move.ts';
import type { KindDetails, RuleCommon, RuleKind } from './rule-kind.ts';
import { volumeSpike } from './volume-spike/volume-spike.ts';

/** Every rule kind, one line each: a kind is its folder plus its line here. */
export const RULE_KINDS = [largeTrade, notional, volumeSpike, priceMove] as const;

type Kinds = (typeof RULE_KINDS)[number];
type RuleOf<K> = K extends RuleKind<infer R, KindDetails> ? R : never;
type DetailsOf<K> = K extends RuleKind<RuleCommon, infer D> ? D : never;

/** A validated rule of any kind. */
export type Rule = RuleOf<Kinds>;
/** An alert's kind-specific part: a union by `kind`. */
export type AlertDetails = DetailsOf<Kinds>;
export type AlertKind = AlertDetails['kind'];

export const KIND_NAMES = RULE_KINDS.map((k) => k.kind) as AlertKind[];

export function kindOf(kind: string): RuleKind | undefined {
  return (RULE_KINDS as readonly RuleKind[]).find((k) => k.kind === kind);
}

/** The kind of a validated rule (it exists: validation checked). */
export function ruleKind(rule: RuleCommon): RuleKind {
  return kindOf(rule.kind)!;
}
