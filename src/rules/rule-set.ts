import type { Trade } from '../trade/trade.ts';
import type { Alert } from './alert.ts';
import { type AlertDetails, type Rule, ruleKind } from './registry.ts';
import type { KindDetails, RuleOperator } from './rule-kind.ts';

/** A rule's checkpointed state for one ticker. */
export interface RuleTickerState {
  /** The kind's own state (its operator's export). */
  op?: unknown;
  /** Cooldown: the last slice of event time (epoch ms / cooldown) the rule alerted in. */
  slice?: number;
}

/** Per rule: alerts and hits suppressed by a cooldown. */
export interface RuleCounts {
  alerts: number;
  suppressed: number;
}

/**
 * A rule and its operator, with what every kind shares: the ticker filter, the cooldown and
 * the alert's common fields.
 */
class RuleRunner {
  readonly rule: Rule;
  readonly op: RuleOperator<KindDetails>;
  /** Sees on-time trades in event-time order (a kind that needs order, or a cooldown). */
  readonly ordered: boolean;
  readonly counts: RuleCounts = { alerts: 0, suppressed: 0 };
  readonly #tickers: ReadonlySet<string> | null;
  readonly #cooldownMs: number;
  readonly #slices = new Map<string, number>();
  readonly #prefix: string;
  readonly #message: string;

  readonly #now: () => number;

  constructor(rule: Rule, now: () => number) {
    this.#now = now;
    const kind = ruleKind(rule);
    this.rule = rule;
    this.op = kind.operator(rule as never);
    this.#cooldownMs = (rule.cooldownSeconds ?? 0) * 1000;
    this.ordered = kind.needsOrder || this.#cooldownMs > 0;
    this.#tickers = rule.tickers === undefined ? null : new Set(rule.tickers);
    this.#prefix = `${rule.name}:`;
    this.#message = kind.message;
  }

  check(t: Trade): Alert | null {
    if (this.#tickers !== null && !this.#tickers.has(t.ticker)) return null;
    const d = this.op.check(t);
    if (d === null) return null;
    if (this.#cooldownMs > 0) {
      // Trades come in event-time order here, so slices only move forward per ticker.
      const slice = Math.floor(t.tsMs / this.#cooldownMs);
      if (this.#slices.get(t.ticker) === slice) {
        this.counts.suppressed++;
        return null;
      }
      this.#slices.set(t.ticker, slice);
    }
    this.counts.alerts++;
    return {
      ...(d as AlertDetails),
      alertId: this.#prefix + t.tradeId,
      rule: this.rule.name,
      severity: this.rule.severity,
      trade: t,
      detectedAtMs: this.#now(),
      message: this.#message + t.ticker,
    };
  }

  exportTicker(ticker: string): RuleTickerState | undefined {
    const op = this.op.exportTicker?.(ticker);
    const slice = this.#slices.get(ticker);
    if (op === undefined && slice === undefined) return undefined;
    const s: RuleTickerState = {};
    if (op !== undefined) s.op = op;
    if (slice !== undefined) s.slice = slice;
    return s;
  }

  tickers(): Iterable<string> {
    return new Set([...(this.op.tickers?.() ?? []), ...this.#slices.keys()]);
  }

  restoreTicker(ticker: string, s: RuleTickerState): void {
    if (s.op !== undefined) this.op.restoreTicker?.(ticker, s.op);
    if (s.slice !== undefined) this.#slices.set(ticker, s.slice);
  }

  forget(tickers: ReadonlySet<string>): void {
    this.op.forget?.(tickers);
    for (const t of tickers) this.#slices.delete(t);
  }
}

/** What a rule's state depends on: a checkpoint's state of a rule is kept only if this is unchanged. */
export function ruleFingerprint(rule: Rule): string {
  const { name: _n, severity: _s, ...rest } = rule;
  return JSON.stringify(rest, Object.keys(rest).sort());
}

/**
 * The engine's alert rules: those that see every trade as it is read, and those that see
 * on-time trades in event-time order as the watermark releases them.
 */
export class RuleSet {
  readonly #runners: RuleRunner[];
  readonly #onRead: RuleRunner[];
  readonly #onRelease: RuleRunner[];

  constructor(rules: readonly Rule[], now: () => number) {
    this.#runners = rules.map((r) => new RuleRunner(r, now));
    this.#onRead = this.#runners.filter((r) => !r.ordered);
    this.#onRelease = this.#runners.filter((r) => r.ordered);
  }

  /** Whether any rule needs trades in event-time order (the engine then queues them). */
  get ordered(): boolean {
    return this.#onRelease.length > 0;
  }

  get empty(): boolean {
    return this.#runners.length === 0;
  }

  read(t: Trade, out: Alert[]): void {
    for (const r of this.#onRead) {
      const a = r.check(t);
      if (a !== null) out.push(a);
    }
  }

  released(t: Trade, out: Alert[]): void {
    for (const r of this.#onRelease) {
      const a = r.check(t);
      if (a !== null) out.push(a);
    }
  }

  counts(): Record<string, RuleCounts> {
    return Object.fromEntries(this.#runners.map((r) => [r.rule.name, { ...r.counts }]));
  }

  fingerprints(): Record<string, string> {
    return Object.fromEntries(this.#runners.map((r) => [r.rule.name, ruleFingerprint(r.rule)]));
  }

  /** Each ticker's rule states, by rule name, for a checkpoint. */
  exportTo(of: (ticker: string) => { rules?: Record<string, RuleTickerState> }): void {
    for (const r of this.#runners) {
      for (const ticker of r.tickers()) {
        const s = r.exportTicker(ticker);
        if (s !== undefined) (of(ticker).rules ??= {})[r.rule.name] = s;
      }
    }
  }

  /**
   * Restores a ticker's rule states from a checkpoint taken under `fingerprints`: a rule whose
   * definition is unchanged takes its state back; a new or changed one starts afresh.
   */
  restoreTicker(ticker: string, states: Record<string, RuleTickerState> | undefined, fingerprints: Record<string, string> | undefined): void {
    if (states === undefined) return;
    for (const r of this.#runners) {
      const s = states[r.rule.name];
      if (s !== undefined && fingerprints?.[r.rule.name] === ruleFingerprint(r.rule)) r.restoreTicker(ticker, s);
    }
  }

  /** Which rules a checkpoint taken under `fingerprints` continues, and which start afresh. */
  continuity(fingerprints: Record<string, string> | undefined): { kept: string[]; fresh: string[] } {
    const kept: string[] = [];
    const fresh: string[] = [];
    for (const r of this.#runners) (fingerprints?.[r.rule.name] === ruleFingerprint(r.rule) ? kept : fresh).push(r.rule.name);
    return { kept, fresh };
  }

  forget(tickers: ReadonlySet<string>): void {
    for (const r of this.#runners) r.forget(tickers);
  }
}
