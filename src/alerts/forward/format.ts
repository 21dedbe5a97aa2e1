import { alertDetailText } from '../alert-detail-text.ts';
import type { AlertJson } from '../../kafka/alert-json.ts';

const count = new Intl.NumberFormat('en-US');

/** One line a person reads in a chat: what, where, how big, the engine's message and the id. */
export function alertLine(a: AlertJson): string {
  const extra = a as AlertJson & { severity?: unknown; rule?: unknown };
  const kind = a.kind === 'large_trade' ? 'LARGE' : a.kind === 'volume_spike' ? 'SPIKE' : a.kind === 'price_move' ? 'MOVE' : String(a.kind).toUpperCase();
  const text = alertDetailText(a);
  const detail = text === '' ? '' : ` (${text})`;
  // Alerts from user rules may carry a severity and a rule name; older ones do not.
  const severity = typeof extra.severity === 'string' ? `[${extra.severity}] ` : '';
  const volume = typeof a.volume === 'number' ? count.format(a.volume) : String(a.volume);
  return `${severity}${kind} ${a.ticker} ${volume} @ ${a.price}${detail} at ${a.trade_timestamp}: ${a.message} [${a.alert_id}]`;
}

/** What `webhook:` posts for one alert: the JSON as it was published (the exact bytes when known). */
export function webhookBody(a: AlertJson, raw?: string): string {
  return raw ?? JSON.stringify(a);
}

/** A Slack incoming-webhook message: one line per alert. */
export function slackBody(alerts: readonly AlertJson[]): string {
  return JSON.stringify({ text: alerts.map(alertLine).join('\n') });
}

/** Alerts the rate limit (or a full queue) kept from going out one by one, named in a summary. */
export interface HeldBackSummary {
  /** Alerts named by this summary. */
  readonly count: number;
  /** Of them, offered while the queue was full (an embedded run's overflow); the rest were over the rate. */
  readonly dropped: number;
  readonly limitPerMinute: number;
  readonly fromMs: number;
  readonly toMs: number;
  /** Per kind and ticker, most first. */
  readonly groups: readonly { kind: string; ticker: string; count: number }[];
  /** Every id, up to the memory bound; `count - ids.length` more when it was reached. */
  readonly ids: readonly string[];
}

const SLACK_GROUPS = 20;
const SLACK_IDS = 20;

/** "12 alerts held back in the last minute (over 5 a minute): 9 large_trade AAPL, 3 volume_spike MSFT" */
export function summaryLine(s: HeldBackSummary, maxGroups = Number.POSITIVE_INFINITY): string {
  const groups = s.groups.slice(0, maxGroups).map((g) => `${count.format(g.count)} ${g.kind} ${g.ticker}`);
  if (s.groups.length > groups.length) groups.push(`${s.groups.length - groups.length} more kinds/tickers`);
  const noun = s.count === 1 ? 'alert' : 'alerts';
  const dropped = s.dropped > 0 ? `; ${count.format(s.dropped)} of them arrived while the forwarder's queue was full` : '';
  return `${count.format(s.count)} ${noun} held back in the last minute (over ${count.format(s.limitPerMinute)} a minute${dropped}): ${groups.join(', ')}`;
}

/** The summary as `webhook:` posts it: `kind` "summary" tells it from an alert. */
export function webhookSummaryBody(s: HeldBackSummary): string {
  return JSON.stringify({
    kind: 'summary',
    message: summaryLine(s),
    held_back: s.count,
    dropped: s.dropped,
    limit_per_minute: s.limitPerMinute,
    from: new Date(s.fromMs).toISOString(),
    to: new Date(s.toMs).toISOString(),
    counts: s.groups,
    alert_ids: s.ids,
    ids_omitted: s.count - s.ids.length,
  });
}

/** The summary as a Slack message: the counts, then the first ids (a chat line has no room for thousands). */
export function slackSummaryBody(s: HeldBackSummary): string {
  const shown = s.ids.slice(0, SLACK_IDS);
  const more = s.count - shown.length;
  const ids = `ids: ${shown.join(', ')}${more > 0 ? ` and ${count.format(more)} more` : ''}`;
  return JSON.stringify({ text: `${summaryLine(s, SLACK_GROUPS)}\n${ids}` });
}
