import { type Rule, ruleKind } from './registry.ts';
import { formatCount } from './words.ts';

/**
 * A rule in words, as `tickflow rules check` prints it:
 * `block (large_trade, critical): alert on a trade of more than 1,000,000 shares (AAPL: 5,000,000),
 * as each trade is read; AAPL, MSFT only; at most one alert per ticker every 60 s of event time`.
 */
export function describeRule(rule: Rule): string {
  const kind = ruleKind(rule);
  const ordered = kind.needsOrder || rule.cooldownSeconds !== undefined;
  const parts = [
    `alert on ${kind.describe(rule as never)}`,
    ordered ? 'in event-time order, as the watermark passes each on-time trade' : 'as each trade is read (late trades too)',
    rule.tickers === undefined ? 'every ticker' : `${rule.tickers.join(', ')} only`,
  ];
  if (rule.cooldownSeconds !== undefined) {
    parts.push(`at most one alert per ticker in each ${formatCount(rule.cooldownSeconds)} s of event time (from the epoch), later hits suppressed`);
  }
  return `${rule.name} (${rule.kind}, ${rule.severity}): ${parts.join('; ')}`;
}
