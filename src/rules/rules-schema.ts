import { z } from 'zod';
import { TICKER_PATTERN } from '../trade/trade.ts';
import { KIND_NAMES, RULE_KINDS, type Rule } from './registry.ts';
import { SEVERITIES } from './severity.ts';

/** Letters, digits, `_ . -`: the rule name is the alert_id's prefix and a column value. */
const RULE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;

/** Without a rules file: the original project's rule and the volume spike, with today's ids (`large:…`, `spike:…`). */
export const DEFAULT_RULES = [
  { name: 'large', kind: 'large_trade', threshold: 1_000_000 },
  { name: 'spike', kind: 'volume_spike', factor: 10, lookback: 50 },
] as const;

const common = {
  name: z.string().regex(RULE_NAME, 'must be 1-40 of A-Z a-z 0-9 _ . - (it is the prefix of each alert_id)'),
  tickers: z.array(z.string().regex(TICKER_PATTERN, 'a ticker is 1-10 of A-Z 0-9 . -')).min(1).optional(),
  severity: z.enum(SEVERITIES).default('warning'),
  cooldownSeconds: z.number().int().min(1).max(86_400).optional(),
};

const KIND_SCHEMAS = new Map<string, z.ZodType>(RULE_KINDS.map((k) => [k.kind, z.object({ ...common, kind: z.literal(k.kind), ...k.fields }).strict()]));

export type RulesResult = { ok: true; rules: Rule[] } | { ok: false; errors: string[] };

/**
 * Validates a list of rules. Each error names the rule (its name, else its position) and the
 * field: `rules[2] "whale": amount: Too small: expected number to be >0`.
 */
export function validateRules(input: unknown): RulesResult {
  if (!Array.isArray(input)) return { ok: false, errors: ['rules: must be a list of rules ({"rules": [ … ]})'] };
  const errors: string[] = [];
  const rules: Rule[] = [];
  const seen = new Map<string, number>();
  input.forEach((raw, i) => {
    const name = typeof raw === 'object' && raw !== null && typeof (raw as { name?: unknown }).name === 'string' ? (raw as { name: string }).name : undefined;
    const where = `rules[${i}]${name === undefined ? '' : ` ${JSON.stringify(name)}`}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      errors.push(`${where}: must be an object with a name and a kind`);
      return;
    }
    const kind = (raw as { kind?: unknown }).kind;
    const schema = typeof kind === 'string' ? KIND_SCHEMAS.get(kind) : undefined;
    if (schema === undefined) {
      errors.push(`${where}: kind: ${kind === undefined ? 'missing' : `unknown kind ${JSON.stringify(kind)}`} (one of ${KIND_NAMES.join(', ')})`);
      return;
    }
    const r = schema.safeParse(raw);
    if (!r.success) {
      for (const issue of r.error.issues) errors.push(`${where}: ${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
      return;
    }
    const rule = r.data as Rule;
    const first = seen.get(rule.name);
    if (first !== undefined) errors.push(`${where}: name: ${JSON.stringify(rule.name)} is already the name of rules[${first}] (names must be unique)`);
    else seen.set(rule.name, i);
    rules.push(rule);
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, rules };
}

/**
 * The spec's `rules` as a list. Specs written before rules files had
 * `{"largeTrade": {enabled, threshold}, "volumeSpike": {enabled, factor, lookback}}`: read as
 * the rules `large` and `spike`, so they keep working and keep their alert ids.
 */
export function rulesList(input: unknown): unknown {
  if (input === undefined) return structuredClone(DEFAULT_RULES) as unknown as unknown[];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const legacy = input as Record<string, Record<string, unknown> | undefined>;
  const unknown = Object.keys(legacy).filter((k) => k !== 'largeTrade' && k !== 'volumeSpike');
  if (unknown.length > 0) return input;
  const list: unknown[] = [];
  const { enabled: largeOn, ...large } = legacy.largeTrade ?? {};
  if (largeOn !== false) list.push({ ...DEFAULT_RULES[0], ...large });
  const { enabled: spikeOn, ...spike } = legacy.volumeSpike ?? {};
  if (spikeOn !== false) list.push({ ...DEFAULT_RULES[1], ...spike });
  return list;
}

/** The spec's `rules` field: a list of rules (or the older object form), validated. */
export const rulesSchema = z
  .unknown()
  .optional()
  .transform((input, ctx): Rule[] => {
    const r = validateRules(rulesList(input));
    if (r.ok) return r.rules;
    for (const message of r.errors) ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  });
