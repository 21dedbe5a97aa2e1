import type { Engine } from '../engine/engine.ts';
import type { EngineOutput } from '../engine/records.ts';
import type { Source } from '../source/source.ts';
import { isEmptyOutput, type CommitStep, type Store, type WriteResult } from '../store/store.ts';
import { TradeCopyRows } from '../store/trade-copy-binary.ts';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { RunContext, RunParticipant } from './participant.ts';
import { withRetry } from './retry.ts';

/**
 * A source that never waits (the simulator at --rate max) into a store that never does I/O
 * (PGlite runs in this thread) would keep the event loop in microtasks for the whole run:
 * Ctrl-C and SIGTERM went unanswered until the end, and no timer fired (idle flush, status line,
 * dashboard). The loop gets a turn this often.
 */
const YIELD_EVERY_MS = 50;

/** Trades per database transaction unless told otherwise (`run --batch-size`). */
export const DEFAULT_BATCH_TRADES = 20_000;
/**
 * The first transaction's size; each next one is twice the one before, up to the batch size.
 * A first batch of 20,000 kept the database idle for the run's first ≈ 180 ms (the engine's code
 * is not optimised yet); a small one sets it to work at once.
 */
const FIRST_BATCH_TRADES = 2_500;

export interface RunOptions {
  source: Source;
  engine: Engine;
  store: Store;
  /** Trades per database transaction (bounds memory: at most two batches exist at once). */
  maxBatchTrades?: number;
  /** A batch is written at the latest this long after its first record. */
  maxBatchDelayMs?: number;
  /** How long a write may keep retrying through a database outage before the run fails. */
  maxOutageMs?: number;
  /** Transactions in flight at once (PostgreSQL works on one while the next is sent). */
  maxInflight?: number;
  signal?: AbortSignal;
  /**
   * Whether a stop (the signal) closes every open window and releases every waiting trade, as
   * the end of a finite input does (default true). False for a checkpointed stream: stopping it
   * is a pause, and the next run goes on from the live state.
   */
  finishOnStop?: boolean;
  /** What takes part in the run beside source, engine and store, with their hooks (participant.ts). */
  participants?: readonly RunParticipant[];
}

export interface RunSummary {
  read: number;
  stored: number;
  duplicates: number;
  alerts: number;
  dead_letters: number;
  late: number;
  /** Heartbeat records read (time only: never stored). */
  heartbeats: number;
  candles: number;
  elapsed_ms: number;
  trades_per_s: number;
  /** Peak resident memory of this process so far. */
  peak_rss_mb: number;
  /** Write attempts that failed on a transient database error and were retried. */
  db_retries: number;
  /** Per rule: alerts raised, and hits suppressed by its cooldown (docs/rules.md). */
  rules: Record<string, { alerts: number; suppressed: number }>;
}

export interface RunTotals {
  stored: WriteResult;
  batches: number;
  /** Failed write attempts that were retried (a database outage shows here). */
  retries: number;
  /** performance.now() of the first failed attempt of the outage in progress, null when writes succeed. */
  unavailableSince: number | null;
}

/**
 * Source → engine → store, with backpressure: while up to `maxInflight` batches are being
 * written the engine fills the next; before one more could start, it waits for the oldest.
 * A slow database therefore slows the source, and memory stays at maxInflight + 1 batches.
 * Completions are reported in batch order, whatever order the transactions finish in.
 */
export class PipelineRun implements RunContext {
  readonly totals: RunTotals = { stored: { trades: 0, alerts: 0, candles: 0, deadLetters: 0 }, batches: 0, retries: 0, unavailableSince: null };
  readonly #o: Required<Pick<RunOptions, 'maxBatchTrades' | 'maxBatchDelayMs' | 'maxOutageMs' | 'maxInflight'>> & RunOptions;
  readonly #parts: readonly RunParticipant[];
  /** Whether transactions must commit in batch order (a participant adds statements to them). */
  readonly #ordered: boolean;
  readonly #inflight: Promise<void>[] = [];
  /** Settles after the latest batch and every batch before it were committed and reported. */
  #reported: Promise<void> = Promise.resolve();
  /** Flushes run one at a time, so batches are handed to the database in the order they were drained. */
  #flushing: Promise<void> = Promise.resolve();
  #lastFlush = 0;
  /** The latest batch's write, which the next one waits for when commits must be in order. */
  #lastWrite: Promise<unknown> = Promise.resolve();
  #idleError: unknown = null;
  #started = 0;
  /** The accepted trades of the batch being gathered, taken from the engine after each batch of records. */
  readonly #tradeRows = new TradeCopyRows(FIRST_BATCH_TRADES);
  /** Trades that make the next batch full (ramps up to maxBatchTrades). */
  #batchTrades: number;

  constructor(o: RunOptions) {
    this.#o = { maxBatchTrades: DEFAULT_BATCH_TRADES, maxBatchDelayMs: 200, maxOutageMs: 300_000, maxInflight: 2, ...o };
    this.#batchTrades = Math.min(FIRST_BATCH_TRADES, this.#o.maxBatchTrades);
    this.#parts = o.participants ?? [];
    this.#ordered = this.#parts.some((p) => p.afterDrain !== undefined);
  }

  get store(): Store {
    return this.#o.store;
  }

  async run(): Promise<RunSummary> {
    const { source, engine } = this.#o;
    const signal = this.#o.signal ?? new AbortController().signal;
    this.#started = performance.now();
    this.#lastFlush = performance.now();
    for (const p of this.#parts) await p.start?.(this);
    // Whether the loop waits for the source now (and not for the database): only then can a
    // silent partition be idle — a stalled sink stops the source, that is not silence.
    let pulling = true;
    // A quiet source (stdin, a paused topic) must not keep what was read out of the database:
    // the timer writes it once it is maxBatchDelayMs old. It also moves the engine's wall clock,
    // so idle partitions stop holding the watermark back and windows close while nothing arrives.
    const idle = setInterval(
      () => {
        engine.keepAlive(pulling ? (source.busyPartitions?.() ?? []) : 'all');
        engine.tick();
        if (engine.pendingOutput + this.#tradeRows.count > 0 && performance.now() - this.#lastFlush >= this.#o.maxBatchDelayMs) {
          this.#flush().catch((e: unknown) => (this.#idleError ??= e));
        }
      },
      Math.max(10, Math.floor(this.#o.maxBatchDelayMs / 2)),
    );
    idle.unref();
    let lastTurn = performance.now();
    try {
      for await (const records of source.batches(signal)) {
        pulling = false;
        if (records.length > 0) {
          for (const p of this.#parts) if (p.beforeBatch !== undefined) await p.beforeBatch(records);
          engine.processBatch(records);
          this.#tradeRows.append(engine.takeTrades());
          for (const p of this.#parts) p.afterBatch?.(records);
        }
        if (this.#idleError !== null) throw this.#idleError;
        if (this.#tradeRows.count >= this.#batchTrades || performance.now() - this.#lastFlush >= this.#o.maxBatchDelayMs) {
          await this.#flush();
        }
        if (performance.now() - lastTurn >= YIELD_EVERY_MS) {
          await nextTurn();
          lastTurn = performance.now();
        }
        if (signal.aborted) break;
        pulling = true;
      }
    } finally {
      clearInterval(idle);
    }
    // A finite input has ended (or we were asked to stop): what is pending becomes final —
    // unless a stop is only a pause (a checkpointed stream goes on from its state next time).
    if (!signal.aborted || this.#o.finishOnStop !== false) {
      for (const p of this.#parts) p.beforeFinish?.();
      engine.finish();
    }
    await this.#flush();
    while (this.#inflight.length > 0) await this.#inflight.shift();
    if (this.#idleError !== null) throw this.#idleError;
    for (const p of this.#parts) await p.finish?.();
    return this.summary();
  }

  /**
   * Drains what the engine holds and resolves once it and every batch before it are committed
   * and reported. For a source that must hand work over mid-run (a Kafka rebalance).
   */
  async settle(): Promise<void> {
    await this.#flush();
    while (this.#inflight.length > 0) await this.#inflight.shift();
    await this.#reported;
  }

  summary(): RunSummary {
    const c = this.#o.engine.counters;
    const elapsed = performance.now() - this.#started;
    return {
      read: c.read,
      stored: this.totals.stored.trades,
      duplicates: c.duplicates,
      alerts: c.alerts,
      dead_letters: c.rejected,
      late: c.late,
      heartbeats: c.heartbeats,
      candles: c.candles,
      elapsed_ms: Math.round(elapsed),
      trades_per_s: elapsed > 0 ? Math.round((c.read / elapsed) * 1000) : 0,
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      db_retries: this.totals.retries,
      rules: this.#o.engine.ruleCounts(),
    };
  }

  #flush(): Promise<void> {
    const next = this.#flushing.then(() => this.#flushNow());
    this.#flushing = next.catch(() => {});
    return next;
  }

  async #flushNow(): Promise<void> {
    this.#lastFlush = performance.now();
    const out = this.#o.engine.drain();
    if (out.trades.length > 0 || this.#tradeRows.count > 0) {
      this.#tradeRows.append(out.trades);
      out.trades = [];
      out.earlierTrades = this.#tradeRows.take();
    }
    if (isEmptyOutput(out)) return;
    this.#batchTrades = Math.min(2 * this.#batchTrades, this.#o.maxBatchTrades);
    const epilogue = this.#ordered ? this.#epilogue(out) : undefined;
    while (this.#inflight.length >= this.#o.maxInflight) await this.#inflight.shift();
    const written = this.#write(out, epilogue && { after: this.#lastWrite, epilogue });
    this.#lastWrite = written;
    const reported = Promise.all([written, this.#reported]).then(([w]) => this.#committed(out, w.result, w.ms));
    this.#reported = reported;
    // A failure surfaces when this batch is awaited, not as an unhandled rejection.
    reported.catch(() => {});
    this.#inflight.push(reported);
  }

  /** Each participant's afterDrain, called now; their statements joined, in participant order. */
  #epilogue(out: EngineOutput): CommitStep['epilogue'] {
    const parts = this.#parts.flatMap((p) => (p.afterDrain === undefined ? [] : [p.afterDrain(out)]));
    return async () => (await Promise.all(parts.map((f) => f()))).flat();
  }

  async #write(out: EngineOutput, step: CommitStep | undefined): Promise<{ result: WriteResult; ms: number }> {
    const t0 = performance.now();
    const result = await withRetry(() => this.#o.store.write(out, step), {
      maxElapsedMs: this.#o.maxOutageMs,
      onRetry: (attempt, delayMs, error) => {
        this.totals.retries++;
        this.totals.unavailableSince ??= performance.now();
        for (const p of this.#parts) p.onWriteRetry?.(attempt, delayMs, error);
      },
    });
    const since = this.totals.unavailableSince;
    if (since !== null) {
      this.totals.unavailableSince = null;
      for (const p of this.#parts) p.onWriteRecovered?.(performance.now() - since);
    }
    return { result, ms: performance.now() - t0 };
  }

  async #committed(out: EngineOutput, result: WriteResult, writeMs: number): Promise<void> {
    const s = this.totals.stored;
    s.trades += result.trades;
    s.alerts += result.alerts;
    s.candles += result.candles;
    s.deadLetters += result.deadLetters;
    this.totals.batches++;
    for (const p of this.#parts) await p.onCommitted?.(out, result, writeMs);
  }
}
