import { z } from 'zod';
import type { Trade } from '../../trade/trade.ts';
import type { RuleCommon, RuleKind, RuleOperator } from '../rule-kind.ts';
import { formatCount } from '../words.ts';

export interface NotionalRule extends RuleCommon {
  readonly kind: 'notional';
  /** Alert when price × volume is strictly greater than this (at most 2 decimals). */
  readonly amount: number;
}

export interface NotionalDetails {
  readonly kind: 'notional';
  /** The rule's amount × 100. */
  readonly amountE2: number;
  /** The trade's price × volume × 10^4 (past 2^53 for the largest trades). */
  readonly notionalE4: bigint;
}

/** 123450 (×100) → "1234.50"; 1234567890000n (×10^4) → "123456789.0000". */
function scaled(n: bigint, digits: number): string {
  const s = n.toString().padStart(digits + 1, '0');
  return `${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

/**
 * price × volume > amount, exactly: the product is compared in doubles where it is far from the
 * amount and in integers where rounding could decide.
 */
export const notional: RuleKind<NotionalRule, NotionalDetails> = {
  kind: 'notional',
  fields: {
    amount: z.number().positive().max(1e15).multipleOf(0.01),
  },
  needsOrder: false,
  message: 'Large notional trade for ',
  describe: (r) => `a trade worth more than ${formatCount(r.amount)} (price × volume)`,
  operator(r): RuleOperator<NotionalDetails> {
    const amountE2 = Math.round(r.amount * 100);
    const amountE4 = amountE2 * 100;
    const above = amountE4 * (1 + 1e-9);
    const below = amountE4 * (1 - 1e-9);
    const exact = BigInt(amountE2) * 100n;
    return {
      check(t: Trade) {
        const approx = t.priceE4 * t.volume;
        if (approx < below) return null;
        const product = BigInt(t.priceE4) * BigInt(t.volume);
        if (approx <= above && product <= exact) return null;
        return { kind: 'notional', amountE2, notionalE4: product };
      },
    };
  },
  columns: (d) => ({ amount: scaled(BigInt(d.amountE2), 2), notional: scaled(d.notionalE4, 4) }),
  flink(r, input) {
    const amount = `CAST(${scaled(BigInt(Math.round(r.amount * 100)), 2)} AS DECIMAL(20, 2))`;
    return {
      ddl: [],
      columns: ['amount', 'notional'],
      hits: `SELECT trade_id, ticker, price, volume, event_time, ${amount} AS amount, notional FROM (
  SELECT trade_id, ticker, price, volume, event_time, CAST(price * volume AS DECIMAL(24, 4)) AS notional FROM ${input}
) WHERE notional > ${amount}`,
    };
  },
};
