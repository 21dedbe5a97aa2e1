import { z } from 'zod';
import { TICKER_PATTERN } from '../trade/trade.ts';

/**
 * Query parameters of the API, validated before any SQL runs. Unknown parameters are refused
 * (a typo should not silently return everything). Limits above the cap are lowered to it.
 */

const ticker = z
  .string()
  .transform((s) => s.trim().toUpperCase())
  .refine((s) => TICKER_PATTERN.test(s), 'must be 1-10 of A-Z 0-9 . -');

/** ISO-8601 with a zone, or epoch milliseconds; inside years 1970..9999 (what TIMESTAMPTZ and JS share). */
const instant = z.string().transform((s, ctx) => {
  const t = s.trim();
  let ms: number;
  if (/^\d{1,16}$/.test(t)) ms = Number(t);
  else if (/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})$/i.test(t)) ms = Date.parse(t);
  else ms = Number.NaN;
  if (!Number.isFinite(ms) || ms < 0 || ms > 253_402_300_799_999) {
    ctx.addIssue({ code: 'custom', message: 'must be an ISO-8601 time with a zone (2026-11-25T14:00:00Z) or epoch milliseconds' });
    return z.NEVER;
  }
  return ms;
});

function limit(def: number, cap: number) {
  return z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined) return def;
      if (!/^\d{1,9}$/.test(s.trim()) || Number(s) < 1) {
        ctx.addIssue({ code: 'custom', message: `must be an integer ≥ 1 (values above ${cap} are lowered to ${cap})` });
        return z.NEVER;
      }
      return Math.min(Number(s), cap);
    });
}

export const LIMITS = { candles: 5_000, trades: 1_000, alerts: 1_000 } as const;

export const candlesParams = z.object({ ticker, from: instant.optional(), to: instant.optional(), limit: limit(1_000, LIMITS.candles) }).strict();

export const tradesParams = z.object({ ticker: ticker.optional(), since: instant.optional(), limit: limit(100, LIMITS.trades) }).strict();

/** A rule's name as the rules file allows it (it is stored in VARCHAR(64)). */
const rule = z
  .string()
  .transform((s) => s.trim())
  .refine((s) => /^[A-Za-z0-9_.-]{1,64}$/.test(s), 'must be a rule name: 1-64 of A-Z a-z 0-9 _ . -');

export const ALERT_KINDS = ['large_trade', 'notional', 'volume_spike', 'price_move'] as const;

export const alertsParams = z
  .object({
    ticker: ticker.optional(),
    kind: z.enum(ALERT_KINDS).optional(),
    rule: rule.optional(),
    since: instant.optional(),
    limit: limit(100, LIMITS.alerts),
  })
  .strict();

export const noParams = z.object({}).strict();

export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * Parse a query; the message names the parameter. A parameter given twice is refused rather
 * than guessed at.
 */
export function parseQuery<S extends z.ZodType>(schema: S, url: URL): ParseResult<z.output<S>> {
  const raw: Record<string, string> = {};
  for (const [k, v] of url.searchParams) {
    if (k === 'token') continue; // the access check's, not the endpoint's
    if (Object.hasOwn(raw, k)) return { ok: false, message: `${shortName(k)}: given more than once` };
    raw[k] = v;
  }
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') return { ok: false, message: `${shortName(issue.keys[0] ?? '?')}: unknown parameter` };
  const name = shortName(String(issue.path[0] ?? '?'));
  const message = issue.code === 'invalid_type' && raw[name] === undefined ? 'is required' : issue.message;
  return { ok: false, message: `${name}: ${message}` };
}

/** Parameter names echo back in messages; keep them short and printable. */
function shortName(k: string): string {
  // `?=x` has a name too: an empty one, which must still be visible in the message.
  if (k.length === 0) return '(empty name)';
  const s = k.replace(/[^\x20-\x7e]/g, '?');
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
