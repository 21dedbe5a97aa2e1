import type { PipelineSpec } from '../spec/spec.ts';
import { decodeFlatTradeBytes, decodeFlatTradeRange, decodeFlatTradeText } from '../trade/flat-trade-decoder.ts';
import { parseTradeBytesReference, parseTradeTextReference, type RejectCode } from '../trade/parse.ts';
import type { Trade } from '../trade/trade.ts';
import { CandleWindows } from './candle-windows.ts';
import { checkpointWatermark, emptyTickerState, type EngineState, type TickerState } from './engine-state.ts';
import { EventTimeQueue } from './event-time-queue.ts';
import { BufferRangeRecord, emptyOutput, type Alert, type AlertKind, type Candle, type EngineOutput, type RawRecord } from './records.ts';
import { TradeIdDeduper } from './trade-id-deduper.ts';
import { hashTradeId } from './trade-id-set.ts';
import { KIND_NAMES } from '../rules/registry.ts';
import { type RuleCounts, RuleSet } from '../rules/rule-set.ts';
import { Watermark } from './watermark.ts';

/**
 * Records decoded and prefetched together. The slots a chunk reads (a cache line each) stay well
 * inside a core's L2 until its ids are added: 1,024 lines are 64 KB.
 */
const PREFETCH_CHUNK = 1024;

export interface EngineCounters {
  read: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  late: number;
  /** Heartbeat records (time only: they move their partition's event time, nothing else). */
  heartbeats: number;
  alerts: number;
  candles: number;
  alertsByKind: Record<AlertKind, number>;
  rejectedByCode: Partial<Record<RejectCode, number>>;
}

export interface EngineOptions {
  /** The wall clock (tests pin it). */
  now?: () => number;
  /**
   * Keep what state() needs to be restored exactly (the arrival order of trades sharing an
   * event time), and report which input each ticker's trades come from: a checkpoint splits
   * the keyed state by input (src/kafka/checkpoints/).
   */
  checkpointable?: { onTicker?: (ticker: string, input: number) => void };
  /** At most how many records `eventMs` of event time holds, when the source knows (Source#idsWithin). */
  idsWithin?: ((eventMs: number) => number) | undefined;
}

/**
 * The embedded engine: every operator of the pipeline spec, in process, synchronous.
 *
 * Per record: parse → dead letter | dedupe → store → the rules that see trades as read →
 * watermark/lateness → candles (arrival order) and the event-time queue → the rules that see
 * trades in event-time order (released as the watermark passes, like Flink's OVER window) →
 * close finished windows.
 * Output accumulates until the caller drains it into a sink transaction.
 */
export class Engine {
  readonly spec: PipelineSpec;
  readonly counters: EngineCounters = {
    read: 0,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    late: 0,
    heartbeats: 0,
    alerts: 0,
    candles: 0,
    alertsByKind: Object.fromEntries(KIND_NAMES.map((k) => [k, 0])) as Record<AlertKind, number>,
    rejectedByCode: {},
  };
  readonly #watermark: Watermark;
  readonly #deduper: TradeIdDeduper;
  readonly #candles: CandleWindows;
  readonly #rules: RuleSet;
  /** Whether on-time trades queue for the rules that take them in event-time order. */
  readonly #ordered: boolean;
  readonly #queue: EventTimeQueue;
  readonly #maxRecordBytes: number;
  readonly #onTicker: ((ticker: string, input: number) => void) | undefined;
  readonly #now: () => number;
  #out: EngineOutput = emptyOutput();
  /** processBatch's chunk: its records' fast-path trades and their ids' hashes. */
  readonly #chunkTrades: (Trade | null)[] = new Array(PREFETCH_CHUNK).fill(null);
  readonly #chunkHashes = new Int32Array(PREFETCH_CHUNK);
  readonly #release = (t: Trade): void => {
    const alerts = this.#out.alerts;
    const before = alerts.length;
    this.#rules.released(t, alerts);
    if (alerts.length !== before) this.#count(alerts, before);
  };

  constructor(spec: PipelineSpec, options: EngineOptions = {}) {
    this.spec = spec;
    this.#now = options.now ?? Date.now;
    this.#queue = new EventTimeQueue({ trackArrival: options.checkpointable !== undefined });
    this.#onTicker = options.checkpointable?.onTicker;
    this.#watermark = new Watermark(spec.input.outOfOrdernessMs, spec.input.idleTimeoutMs);
    this.#deduper = new TradeIdDeduper(spec.dedupe.horizonMs, options.idsWithin);
    this.#candles = new CandleWindows(spec.candles.intervalMs);
    this.#rules = new RuleSet(spec.rules, this.#now);
    this.#ordered = this.#rules.ordered;
    this.#maxRecordBytes = spec.input.maxRecordBytes;
  }

  process(record: RawRecord): void {
    this.#take(record, this.#decodeFast(record), undefined);
  }

  /**
   * Records in order, as `process` takes them one by one; what the sources and the pipeline
   * call. Each chunk is decoded first, so that the dedupe window can be read where every id of
   * the chunk will look (TradeIdSet#prefetch): those reads do not depend on one another, so their
   * cache misses overlap instead of stalling one add after the other. Decoding has no effect on
   * the engine, so taking a record after the next one was decoded changes nothing.
   */
  processBatch(records: readonly RawRecord[]): void {
    const fast = this.#chunkTrades;
    const hashes = this.#chunkHashes;
    for (let from = 0; from < records.length; from += PREFETCH_CHUNK) {
      const n = Math.min(PREFETCH_CHUNK, records.length - from);
      for (let i = 0; i < n; i++) {
        const t = this.#decodeFast(records[from + i]!);
        fast[i] = t;
        hashes[i] = t === null ? 0 : hashTradeId(t.tradeId);
      }
      this.#deduper.prefetch(hashes, n);
      for (let i = 0; i < n; i++) {
        const t = fast[i]!;
        fast[i] = null;
        this.#take(records[from + i]!, t, t === null ? undefined : hashes[i]);
      }
    }
  }

  /** The trade of a record in the common flat shape (parseTradeBytes/parseTradeText, unrolled: no result wrapper), else null. */
  #decodeFast(record: RawRecord): Trade | null {
    if (record.decoded !== undefined) return record.decoded;
    const max = this.#maxRecordBytes;
    if (record instanceof BufferRangeRecord) return decodeFlatTradeRange(record.buffer, record.start, record.end, max);
    const v = record.value;
    return typeof v === 'string' ? decodeFlatTradeText(v, max) : decodeFlatTradeBytes(v, max);
  }

  /** One record, its fast-path trade (or null: the reference parser decides) and, when known, the hash of its id. */
  #take(record: RawRecord, fast: Trade | null, idHash: number | undefined): void {
    this.counters.read++;
    const partition = record.partition;
    this.#watermark.arrive(partition, this.#now);
    if (fast !== null) {
      this.#onTicker?.(fast.ticker, partition);
      this.#processTrade(fast, partition, idHash);
      return;
    }
    const max = this.#maxRecordBytes;
    const v = record.value;
    const r = typeof v === 'string' ? parseTradeTextReference(v, max) : parseTradeBytesReference(v, max);
    if (r.ok === 'heartbeat') {
      this.counters.heartbeats++;
      if (this.#watermark.observe(partition, r.tsMs)) this.#advance();
      return;
    }
    if (!r.ok) {
      this.counters.rejected++;
      this.counters.rejectedByCode[r.code] = (this.counters.rejectedByCode[r.code] ?? 0) + 1;
      this.#out.deadLetters.push({
        source: record.source,
        partition: record.partition,
        offset: record.offset,
        raw: v,
        code: r.code,
        reason: r.reason,
        receivedAtMs: this.#now(),
      });
      return;
    }
    this.#onTicker?.(r.trade.ticker, partition);
    this.#processTrade(r.trade, partition, undefined);
  }

  #processTrade(t: Trade, partition: number, idHash: number | undefined): void {
    const wm = this.#watermark;
    if (!this.#deduper.admit(t.tradeId, idHash)) {
      this.counters.duplicates++;
      // A replay still carries event time forward, as it does at Flink's source.
      if (wm.observe(partition, t.tsMs)) this.#advance();
      return;
    }
    this.counters.accepted++;
    const out = this.#out;
    out.trades.push(t);
    const before = out.alerts.length;
    this.#rules.read(t, out.alerts);
    if (out.alerts.length !== before) this.#count(out.alerts, before);
    if (t.tsMs < wm.current || (wm.hasFloors && t.tsMs < wm.lateBelow(partition))) {
      this.counters.late++;
      // Late, yet it still moves its partition's event time (as at Flink's source).
      if (wm.observe(partition, t.tsMs)) this.#advance();
      return;
    }
    this.#candles.add(t);
    if (this.#ordered) {
      // A trade exactly at its partition's floor (above the engine's watermark after a restore
      // lowered it) is due as well: nothing of its ticker can come before it any more. Released
      // now, so that every waiting trade is above the watermark a checkpoint records.
      if (wm.hasFloors && t.tsMs > wm.current && t.tsMs <= wm.lateBelow(partition)) this.#release(t);
      else this.#queue.push(t);
    }
    if (wm.observe(partition, t.tsMs)) this.#advance();
    // A trade exactly at the watermark is on time yet already due: release it now, so every
    // waiting trade is above the watermark — which is how a checkpoint finds them again.
    // (Nothing earlier can still arrive, so the release order is the same as at the next advance.)
    else if (this.#ordered && t.tsMs <= wm.current) this.#queue.releaseUpTo(wm.current, this.#release);
  }

  /**
   * The wall clock moved (the pipeline calls this on a timer, records or not): partitions silent
   * for the idle timeout stop holding the watermark back, and once all are silent the watermark
   * follows the wall clock, so the last windows close while nothing arrives.
   */
  tick(): void {
    if (this.#watermark.tick(this.#now())) this.#advance();
  }

  /**
   * Active partitions that are not silent though no record reached the engine: their records
   * wait in the source, or the pipeline is not pulling. Called before tick().
   */
  keepAlive(partitions: Iterable<number> | 'all'): void {
    this.#watermark.keepAlive(partitions);
  }

  /** A partition just assigned holds the watermark back until it delivers or goes idle. */
  addPartition(partition: number): void {
    this.#watermark.addPartition(partition, this.#now());
  }

  /** End of a finite input: release every pending trade and emit every open window. */
  finish(): void {
    this.#watermark.finish();
    this.#advance();
  }

  /** Take what was produced since the last drain. */
  drain(): EngineOutput {
    const out = this.#out;
    this.#out = emptyOutput();
    return out;
  }

  /**
   * The accepted trades not yet drained or taken, in order; the next drain holds only later
   * ones. For a caller that stores larger batches than it wants to keep as objects.
   */
  takeTrades(): Trade[] {
    const trades = this.#out.trades;
    this.#out.trades = [];
    return trades;
  }

  get pendingTrades(): number {
    return this.#out.trades.length;
  }

  /** Everything waiting to be drained, trades or not (a stream of only bad records must still be written). */
  get pendingOutput(): number {
    const o = this.#out;
    return o.trades.length + o.alerts.length + o.candles.length + o.deadLetters.length;
  }

  get watermarkMs(): number {
    return this.#watermark.current;
  }

  /** Candles of windows still open: shown live, never stored. */
  formingCandles(): Iterable<Candle> {
    return this.#candles.forming();
  }

  /**
   * Everything a restarted engine needs to go on exactly from here, per ticker (see
   * engine-state.ts). Taken right after a drain, it matches what that drain's transaction stored.
   */
  state(): EngineState {
    const tickers: Record<string, TickerState> = Object.create(null) as Record<string, TickerState>;
    const of = (ticker: string): TickerState => (tickers[ticker] ??= emptyTickerState());
    this.#candles.exportTo(of);
    this.#rules.exportTo(of);
    if (this.#ordered) this.#queue.exportTo(of);
    const wm = this.#watermark;
    const max = wm.maxEventTime;
    const finite = (ms: number): number | null => (Number.isFinite(ms) ? ms : null);
    const partitions: NonNullable<EngineState['partitions']> = {};
    for (const p of wm.partitions()) partitions[p] = { maxEventTimeMs: finite(wm.maxEventTimeOf(p)), watermarkMs: finite(wm.lateBelow(p)) };
    return { maxEventTimeMs: finite(max), watermarkMs: finite(wm.current), partitions, tickers, rules: this.#rules.fingerprints() };
  }

  /**
   * Takes over state taken by state(): its tickers' open windows, rule state (of the rules whose
   * definition is unchanged, rule-set.ts) and waiting trades
   * (`pending`, read back from stock_trades and put in release order by orderPending), and the
   * event time of the input it came from (watermark.ts, restorePartition). Tickers already here
   * are replaced. The waiting trades count as seen.
   */
  restore(state: EngineState, pending: readonly Trade[], input = 0): void {
    for (const [ticker, s] of Object.entries(state.tickers)) {
      this.#candles.restore(ticker, s.candles);
      this.#rules.restoreTicker(ticker, s.rules, state.rules);
    }
    if (this.#ordered) for (const t of pending) this.#queue.push(t);
    for (const t of pending) this.#deduper.admit(t.tradeId);
    this.#watermark.restorePartition(input, state.maxEventTimeMs, checkpointWatermark(state, this.spec.input.outOfOrdernessMs), this.#now());
    this.#advance();
  }

  /** Drops the state of these tickers (another process goes on with them). */
  forget(tickers: ReadonlySet<string>): void {
    this.#candles.forget(tickers);
    this.#rules.forget(tickers);
    this.#queue.forget(tickers);
  }

  /** These partitions are no longer read here: they stop holding the watermark back. */
  removePartitions(partitions: Iterable<number>): void {
    let moved = false;
    for (const p of partitions) moved = this.#watermark.removePartition(p) || moved;
    if (moved) this.#advance();
  }

  /** Trade ids stored before a restore: a record carrying one of them is a duplicate. */
  rememberTradeIds(ids: Iterable<string>): void {
    for (const id of ids) this.#deduper.admit(id);
  }

  /** Alerts and suppressed hits per rule, since the engine started. */
  ruleCounts(): Record<string, RuleCounts> {
    return this.#rules.counts();
  }

  /** Which rules a checkpoint's state continues, and which start afresh (their definition changed). */
  ruleContinuity(state: EngineState): { kept: string[]; fresh: string[] } {
    return this.#rules.continuity(state.rules);
  }

  #count(alerts: readonly Alert[], from: number): void {
    for (let i = from; i < alerts.length; i++) {
      this.counters.alerts++;
      this.counters.alertsByKind[alerts[i]!.kind]++;
    }
  }

  #advance(): void {
    const w = this.#watermark.current;
    if (this.#ordered) this.#queue.releaseUpTo(w, this.#release);
    this.counters.candles += this.#candles.closeUpTo(w, this.#out.candles);
    this.#deduper.advance(w);
  }
}
