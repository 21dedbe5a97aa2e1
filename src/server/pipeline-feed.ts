import type { Engine } from '../engine/engine.ts';
import { type EngineOutput, tradeCount } from '../engine/records.ts';
import type { RunContext, RunParticipant } from '../pipeline/participant.ts';
import { formatTimestamp } from '../trade/trade.ts';
import type { LiveFeed } from './live-feed.ts';
import { LiveHub, type LiveHubOptions } from './live-hub.ts';
import { alertJson, candleJson, type CandleJson } from './live-events.ts';
import { RateMeter, type LiveStats } from './live-stats.ts';
import { LatencyHistogram } from './sink-latency.ts';

/**
 * The embedded pipeline as a live feed, and a participant of its run: committed alerts and
 * closed candles are published after each database commit (so the stream never shows what the
 * database does not hold), forming candles and stats on a timer.
 */
export class PipelineFeed implements LiveFeed, RunParticipant {
  readonly hub: LiveHub;
  readonly sinkLatency = new LatencyHistogram();
  readonly candleIntervalMs: number;
  readonly #engine: Engine;
  readonly #rate = new RateMeter();
  #run: RunContext | null = null;
  #committedRecords = 0;
  #finished = false;
  #tradesPerS = 0;
  #timers: NodeJS.Timeout[] = [];

  constructor(engine: Engine, o: { hub?: LiveHubOptions; formingMs?: number; statsMs?: number } = {}) {
    this.#engine = engine;
    this.candleIntervalMs = engine.spec.candles.intervalMs;
    this.hub = new LiveHub(o.hub).start();
    this.#timers.push(setInterval(() => this.#publishForming(), o.formingMs ?? 250));
    this.#timers.push(setInterval(() => this.hub.publishStats(this.#snapshot()), o.statsMs ?? 1_000));
    for (const t of this.#timers) t.unref();
  }

  /** The run whose totals feed the counters. */
  start(run: RunContext): void {
    this.#run = run;
  }

  onCommitted(out: EngineOutput, _result: unknown, writeMs: number): void {
    this.sinkLatency.observe(writeMs / 1000);
    this.#committedRecords += tradeCount(out) + out.deadLetters.length;
    for (const a of out.alerts) this.hub.publishAlert(alertJson(a));
    for (const c of out.candles) this.hub.publishCandle(candleJson(c, true));
  }

  /** The input ended: the last candles are final; publish them and the final counters now. */
  finish(): void {
    this.#finished = true;
    this.hub.flush();
    this.hub.publishStats(this.#snapshot());
  }

  async stats(): Promise<LiveStats> {
    return this.#snapshot();
  }

  formingCandles(): CandleJson[] {
    return [...this.#engine.formingCandles()].map((c) => candleJson(c, false));
  }

  running(): boolean {
    return this.#run !== null && !this.#finished;
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.hub.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #publishForming(): void {
    if (this.#finished) return;
    for (const c of this.#engine.formingCandles()) this.hub.publishCandle(candleJson(c, false));
  }

  #snapshot(): LiveStats {
    const c = this.#engine.counters;
    const stored = this.#run?.totals.stored.trades ?? 0;
    if (!this.#finished) this.#tradesPerS = this.#rate.sample(c.read);
    const rejectedByCode: Record<string, number> = {};
    for (const [code, n] of Object.entries(c.rejectedByCode)) rejectedByCode[code] = n ?? 0;
    const wm = this.#engine.watermarkMs;
    return {
      source: 'embedded',
      pipeline: this.#finished ? 'finished' : 'running',
      time: new Date().toISOString(),
      read: c.read,
      stored,
      duplicates: c.duplicates,
      dead_letters: c.rejected,
      dead_letters_by_reason: rejectedByCode,
      late: c.late,
      alerts: c.alerts,
      alerts_by_kind: { ...c.alertsByKind },
      candles: c.candles,
      trades_per_s: this.#finished ? 0 : this.#tradesPerS,
      // Every record read is either a duplicate (never written) or written in some commit.
      sink_lag_records: Math.max(0, c.read - c.duplicates - this.#committedRecords),
      sink_retries: this.#run?.totals.retries ?? 0,
      sink_unavailable_s: unavailableSeconds(this.#run?.totals.unavailableSince ?? null),
      consumer_lag: null,
      watermark: Number.isFinite(wm) ? formatTimestamp(wm) : null,
      alerts_not_streamed: this.hub.alertsNotStreamed,
    };
  }
}

function unavailableSeconds(since: number | null): number {
  return since === null ? 0 : Math.round((performance.now() - since) / 100) / 10;
}
