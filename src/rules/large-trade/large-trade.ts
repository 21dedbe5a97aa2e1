import { z } from 'zod';
import type { Trade } from '../../trade/trade.ts';
import { TICKER_PATTERN } from '../../trade/trade.ts';
import type { RuleCommon, RuleKind, RuleOperator } from '../rule-kind.ts';
import { str } from '../../flink/sql-text.ts';
import { formatCount } from '../words.ts';

export interface LargeTradeRule extends RuleCommon {
  readonly kind: 'large_trade';
  /** Alert when volume is strictly greater than this. */
  readonly threshold: number;
  /** Per-ticker thresholds in place of `threshold`. */
  readonly overrides?: Readonly<Record<string, number>> | undefined;
}

export interface LargeTradeDetails {
  readonly kind: 'large_trade';
  readonly threshold: number;
}

const volume = z.number().int().min(0).max(2_147_483_647);

/** volume > threshold (the ticker's override where one is set): the original project's rule. */
export const largeTrade: RuleKind<LargeTradeRule, LargeTradeDetails> = {
  kind: 'large_trade',
  fields: {
    threshold: volume.default(1_000_000),
    overrides: z.record(z.string().regex(TICKER_PATTERN, 'a ticker: 1-10 of A-Z 0-9 . -'), volume).optional(),
  },
  needsOrder: false,
  message: 'Large trade detected for ',
  describe(r) {
    const over = Object.entries(r.overrides ?? {});
    const extra = over.length === 0 ? '' : ` (${over.map(([t, v]) => `${t}: ${formatCount(v)}`).join(', ')})`;
    return `a trade of more than ${formatCount(r.threshold)} shares${extra}`;
  },
  operator(r): RuleOperator<LargeTradeDetails> {
    const overrides = new Map(Object.entries(r.overrides ?? {}));
    const base = r.threshold;
    return {
      check(t: Trade) {
        const threshold = overrides.size === 0 ? base : (overrides.get(t.ticker) ?? base);
        return t.volume > threshold ? { kind: 'large_trade', threshold } : null;
      },
    };
  },
  columns: (d) => ({ threshold: d.threshold }),
  flink(r, input) {
    const over = Object.entries(r.overrides ?? {});
    const threshold =
      over.length === 0
        ? `CAST(${r.threshold} AS BIGINT)`
        : `CAST(CASE ticker ${over.map(([t, v]) => `WHEN ${str(t)} THEN ${v}`).join(' ')} ELSE ${r.threshold} END AS BIGINT)`;
    return {
      ddl: [],
      columns: ['threshold'],
      hits: `SELECT trade_id, ticker, price, volume, event_time, threshold FROM (
  SELECT trade_id, ticker, price, volume, event_time, ${threshold} AS threshold FROM ${input}
) WHERE volume > threshold`,
    };
  },
};
