import type { z } from 'zod';
import type { Trade } from '../trade/trade.ts';
import type { AlertDetailColumn, AlertDetailValues } from './alert-columns.ts';
import type { Severity } from './severity.ts';

/** What every rule has, whatever its kind (docs/rules.md). */
export interface RuleCommon {
  /** Unique among the rules; an alert's `rule`, and the prefix of its alert_id. */
  readonly name: string;
  readonly kind: string;
  /** Only these tickers; absent: every ticker. */
  readonly tickers?: readonly string[] | undefined;
  readonly severity: Severity;
  /** At most one alert per ticker in each slice of event time this long; later hits are suppressed. */
  readonly cooldownSeconds?: number | undefined;
}

/** A rule kind's part of an alert: `kind` plus the kind's own fields (the union is src/rules/alert.ts). */
export interface KindDetails {
  readonly kind: string;
}

/**
 * A rule's embedded operator. It sees the rule's trades (its tickers only) one by one — as read,
 * or in event-time order for a rule that needs trades in order — and keeps what it needs per
 * ticker, exportable for a checkpoint as plain JSON.
 */
export interface RuleOperator<D extends KindDetails> {
  /** This trade's alert details when it hits the rule; state moves on either way. */
  check(t: Trade): D | null;
  /** The ticker's state for a checkpoint; undefined when the rule keeps none for it. */
  exportTicker?(ticker: string): unknown;
  /** Tickers it holds state for. */
  tickers?(): Iterable<string>;
  restoreTicker?(ticker: string, state: unknown): void;
  forget?(tickers: ReadonlySet<string>): void;
}

/** A kind's contribution to the Flink job: views it needs and a SELECT of its hits. */
export interface KindSql {
  ddl: string[];
  /**
   * Columns: trade_id, ticker, price, volume, event_time, then the kind's detail columns (names
   * of ALERT_DETAIL_COLUMNS). Read from `input`, a view of the rule's trades with those columns
   * and source_offset.
   */
  hits: string;
  /** The detail columns `hits` has, in ALERT_DETAIL_COLUMNS order. */
  columns: readonly AlertDetailColumn[];
}

/**
 * A rule kind: one folder under src/rules/ holding its definition, embedded operator and Flink
 * SQL builder, registered by one line in registry.ts.
 */
export interface RuleKind<R extends RuleCommon = RuleCommon, D extends KindDetails = KindDetails> {
  readonly kind: R['kind'];
  /** The kind's own fields (zod shape; the common ones are added by the registry). */
  readonly fields: z.ZodRawShape;
  /**
   * true: the rule keeps per-ticker history, so it needs each ticker's trades in event-time
   * order — it sees on-time trades as the watermark passes them. false: it sees every trade as
   * it is read (late ones too), unless it has a cooldown.
   */
  readonly needsOrder: boolean;
  /** "volume above 1,000,000 shares" — for `tickflow rules check`. */
  describe(rule: R): string;
  /** The alert's message, e.g. "Large trade detected for AAPL". */
  readonly message: string;
  operator(rule: R): RuleOperator<D>;
  /** The details as the table and JSON edges spell them. */
  columns(details: D): AlertDetailValues;
  /** The rule in Flink SQL; `prefix` names its views uniquely. */
  flink(rule: R, input: string, prefix: string): KindSql;
}
