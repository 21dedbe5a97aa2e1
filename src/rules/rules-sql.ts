import { VIEW } from '../flink/sql/views.ts';
import { str } from '../flink/sql-text.ts';
import { ALERT_DETAIL_COLUMNS, DETAIL_COLUMN_NAMES } from './alert-columns.ts';
import { type Rule, ruleKind } from './registry.ts';

/**
 * The rules as Flink SQL, each the twin of its embedded runner (rule-set.ts): a rule that sees
 * trades as read takes tf_trades (late ones too); one that needs event-time order, or has a
 * cooldown, takes tf_on_time. A ticker filter is a view in front; a cooldown is an OVER count
 * per (ticker, slice of event time) behind, keeping the first hit of each slice. Every rule's
 * alerts then take one common shape, all the detail columns spelled out, and are unioned.
 */
export function rulesSql(rules: readonly Rule[]): { ddl: string[]; alertsView: string | null } {
  if (rules.length === 0) return { ddl: [], alertsView: null };
  const ddl: string[] = [];
  const selects = rules.map((rule, i) => {
    const kind = ruleKind(rule);
    const prefix = `tf_rule${i}`;
    const cooldownMs = (rule.cooldownSeconds ?? 0) * 1000;
    let input: string = kind.needsOrder || cooldownMs > 0 ? VIEW.onTime : VIEW.trades;
    if (rule.tickers !== undefined) {
      ddl.push(`CREATE TEMPORARY VIEW ${prefix}_trades AS
SELECT * FROM ${input} WHERE ticker IN (${rule.tickers.map(str).join(', ')})`);
      input = `${prefix}_trades`;
    }
    const sql = kind.flink(rule as never, input, prefix);
    ddl.push(...sql.ddl, `CREATE TEMPORARY VIEW ${prefix}_hits AS\n${sql.hits}`);
    let hits = `${prefix}_hits`;
    if (cooldownMs > 0) {
      // Epoch seconds, sliced: cooldowns are whole seconds, so the slice of the millisecond time is the same.
      const slice = `EXTRACT(EPOCH FROM event_time) / ${rule.cooldownSeconds}`;
      ddl.push(`CREATE TEMPORARY VIEW ${prefix}_cooled AS
SELECT * FROM (
  SELECT *, COUNT(*) OVER (PARTITION BY ticker, cooldown_slice ORDER BY event_time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS nth_in_slice
  FROM (SELECT *, ${slice} AS cooldown_slice FROM ${hits})
) WHERE nth_in_slice = 1`);
      hits = `${prefix}_cooled`;
    }
    const details = DETAIL_COLUMN_NAMES.map((c) => (sql.columns.includes(c) ? c : `CAST(NULL AS ${ALERT_DETAIL_COLUMNS[c].flink}) AS ${c}`));
    return `SELECT CONCAT(${str(`${rule.name}:`)}, trade_id) AS alert_id, CAST(${str(rule.kind)} AS STRING) AS kind,
  CAST(${str(rule.name)} AS STRING) AS rule, CAST(${str(rule.severity)} AS STRING) AS severity,
  trade_id, ticker, price, volume, event_time, ${details.join(', ')},
  CONCAT(${str(kind.message)}, ticker) AS message
FROM ${hits}`;
  });
  ddl.push(`CREATE TEMPORARY VIEW ${VIEW.alerts} AS\n${selects.join('\nUNION ALL\n')}`);
  return { ddl, alertsView: VIEW.alerts };
}
