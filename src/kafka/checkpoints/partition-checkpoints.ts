import { checkpointWatermark, orderPending, type EngineState } from '../../engine/engine-state.ts';
import { Engine } from '../../engine/engine.ts';
import type { EngineOutput, RawRecord } from '../../engine/records.ts';
import type { RunContext, RunParticipant } from '../../pipeline/participant.ts';
import { withRetry } from '../../pipeline/retry.ts';
import type { PipelineSpec } from '../../spec/spec.ts';
import type { SqlStatement, Store } from '../../store/store.ts';
import { parseTradeBytes, parseTradeText } from '../../trade/parse.ts';
import {
  loadCheckpoints,
  pendingTrades,
  saveCheckpoints,
  specFingerprint,
  splitByPartition,
  storedTradeIds,
  type StoredCheckpoint,
} from './checkpoint-table.ts';

/** The consumer-group side of a partition change: what the source's group member can tell and do. */
export interface GroupMember {
  /** The group's committed offsets of these partitions (-1 where none). */
  committedOffsets(partitions: readonly number[]): Promise<Map<number, bigint>>;
  /** Records the next offsets to read (for tools that watch lag; the checkpoint is what a restart trusts). */
  commitOffsets(next: ReadonlyMap<number, bigint>): Promise<void>;
}

export interface AssignmentChange {
  readonly gained: readonly number[];
  readonly lost: readonly number[];
  /** Aborted when the run stops: a claim waiting for a previous owner gives up. */
  readonly signal: AbortSignal;
  /** Whether a partition is still assigned to us (a later rebalance may have moved it on). */
  isAssigned(partition: number): boolean;
  readonly member: GroupMember;
}

export interface AssignmentTaken {
  /** The gained partitions taken over; one not taken yet is offered again while it stays assigned. */
  readonly taken: readonly number[];
  /** Where to resume taken partitions, where that differs from the group's committed offset. */
  readonly resume: ReadonlyMap<number, bigint>;
}

/** What a source asks before it hands out any record of a newly assigned partition. */
export interface PartitionOwner {
  /** The partitions this process holds the state of. */
  readonly owned: ReadonlySet<number>;
  onAssignment(change: AssignmentChange): Promise<AssignmentTaken>;
}

export interface PartitionCheckpointsOptions {
  spec: PipelineSpec;
  groupId: string;
  onWarning?: (line: string) => void;
}

/**
 * The one home of the TS consumer's checkpoint protocol, keyed by partition number: which
 * partitions this process owns (claims, hand-over), the next offset of each, and the engine
 * state that goes with it — saved in every batch's transaction, loaded and restored when a
 * partition is gained, dropped when it is lost — and, after a restore, the check that a record
 * whose trade is already stored counts as a duplicate.
 *
 * Per stored batch (a participant of the run): right after the drain, the checkpoint of every
 * owned partition (next offset + its tickers' state) joins the batch's transaction, which commits
 * strictly after the previous batch's; once committed, the offsets go to the group too. A crash
 * anywhere leaves the database at the end of a batch with the state that goes with it: whoever
 * takes a partition over restores that state and reads on from the offset it names, so candles
 * and spike baselines come out as if nothing had happened.
 *
 * It builds the engine it checkpoints: the engine tells it which partition each ticker's trades
 * come from (a partition owns its tickers: key = ticker), and knows nothing of ownership.
 */
export class PartitionCheckpoints implements RunParticipant, PartitionOwner {
  readonly engine: Engine;
  readonly #spec: PipelineSpec;
  readonly #group: string;
  readonly #topic: string;
  readonly #fingerprint: string;
  #rulesReported = false;
  readonly #warn: (line: string) => void;
  readonly #owned = new Set<number>();
  /**
   * Per partition, the offset after the last record the engine processed. Not the source's
   * positions: those run ahead while a batch waits for beforeBatch, and a checkpoint naming a
   * record the state does not hold would skip it after a restart.
   */
  readonly #next = new Map<number, number>();
  readonly #partitionOf = new Map<string, number>();
  /** Offsets each drained output's checkpoint named, committed to the group once it is stored. */
  readonly #offsets = new WeakMap<EngineOutput, Map<number, bigint>>();
  /** The state before finish() closed every window: a later run goes on from the stream's real state. */
  #beforeFinish: EngineState | null = null;
  /**
   * After a restore, until the watermark reaches this: a record whose trade_id is already stored
   * was seen before the checkpoint, so it is a duplicate (the restored engine does not carry the
   * ids it had seen; the table does). Past it, an uninterrupted engine would have forgotten them.
   */
  #checkStoredUntil = Number.NEGATIVE_INFINITY;
  #run: RunContext | null = null;
  #member: GroupMember | null = null;

  constructor(o: PartitionCheckpointsOptions) {
    this.#spec = o.spec;
    this.#group = o.groupId;
    this.#topic = o.spec.input.topic;
    this.#fingerprint = specFingerprint(o.spec);
    this.#warn = o.onWarning ?? (() => {});
    this.engine = new Engine(o.spec, { checkpointable: { onTicker: (ticker, partition) => this.#partitionOf.set(ticker, partition) } });
  }

  get owned(): ReadonlySet<number> {
    return this.#owned;
  }

  start(run: RunContext): void {
    this.#run = run;
  }

  /** After a restore, stored trade ids count as seen. */
  async beforeBatch(records: readonly RawRecord[]): Promise<void> {
    if (this.engine.watermarkMs >= this.#checkStoredUntil) return;
    const max = this.#spec.input.maxRecordBytes;
    const ids: string[] = [];
    for (const r of records) {
      // The source's decoded trade when it has one (the Kafka source does): no second parse.
      if (r.decoded) {
        ids.push(r.decoded.tradeId);
        continue;
      }
      const p = typeof r.value === 'string' ? parseTradeText(r.value, max) : parseTradeBytes(r.value, max);
      if (p.ok === true) ids.push(p.trade.tradeId);
    }
    const store = this.#store();
    this.engine.rememberTradeIds(await retryDb(() => storedTradeIds(store, ids)));
  }

  afterBatch(records: readonly RawRecord[]): void {
    for (const r of records) this.#next.set(r.partition, r.offset + 1);
  }

  /** The checkpoint of every owned partition joins the batch's transaction (its statements run last). */
  afterDrain(out: EngineOutput): () => Promise<readonly SqlStatement[]> {
    const statements = this.#checkpoint(out);
    return async () => statements;
  }

  /** The batch and its checkpoint are stored: tell the group too. */
  async onCommitted(out: EngineOutput): Promise<void> {
    const offsets = this.#offsets.get(out);
    if (offsets !== undefined && offsets.size > 0) await this.#member?.commitOffsets(offsets);
  }

  beforeFinish(): void {
    this.#beforeFinish = this.engine.state();
  }

  /**
   * After a clean end (every batch stored): checkpoint and commit the position of everything
   * read, including records that produced no output (duplicates: they still move event time),
   * so a restart neither re-reads them nor resumes from an older state.
   */
  async finish(): Promise<void> {
    const out: EngineOutput = { trades: [], alerts: [], candles: [], deadLetters: [] };
    const store = this.#store();
    for (const s of this.#checkpoint(out)) await retryDb(() => store.query(s.sql, [...s.params]));
    await this.onCommitted(out);
  }

  #checkpoint(out: EngineOutput): SqlStatement[] {
    const offsets = new Map<number, bigint>();
    for (const p of this.#owned) {
      const next = this.#next.get(p);
      if (next !== undefined) offsets.set(p, BigInt(next));
    }
    this.#offsets.set(out, offsets);
    const rows = splitByPartition(this.#beforeFinish ?? this.engine.state(), (t) => this.#partitionOf.get(t), offsets);
    return rows.length > 0 ? [saveCheckpoints(this.#group, this.#topic, this.#fingerprint, rows)] : [];
  }

  /**
   * The group gave us partitions or took some away. Lost ones: what we read from them is
   * committed with their checkpoints, then their tickers' state goes and their claims are
   * released (the new owner waits on them). Gained ones: claimed, and their checkpoint, if any,
   * taken over; reading resumes at its offset.
   */
  async onAssignment(change: AssignmentChange): Promise<AssignmentTaken> {
    this.#member = change.member;
    const claims = this.#store().claims;
    const scope = `${this.#topic}/${this.#group}`;
    const resume = new Map<number, bigint>();
    if (change.lost.length > 0) {
      await this.#run!.settle();
      // All at once, before the next await: a flush meanwhile must not checkpoint them empty.
      this.#forget(change.lost);
      for (const p of change.lost) await retryDb(async () => claims?.release(scope, p));
    }
    const claimed: number[] = [];
    for (const p of change.gained) {
      // The previous owner releases after its last commit (or dies, and its session with it).
      const onWaiting = (): void => this.#warn(`waiting for ${this.#topic}:${p} to be handed over by its previous owner in group ${this.#group}`);
      // Stop waiting when we are stopping, or when a later rebalance gave the partition to
      // someone else (its owner may be waiting for ours).
      const wanted = (): boolean => !change.signal.aborted && change.isAssigned(p);
      if (claims !== null && !(await retryDb(() => claims.claim(scope, p, { wanted, onWaiting })))) {
        for (const q of claimed) await retryDb(async () => claims.release(scope, q));
        return { taken: [], resume };
      }
      claimed.push(p);
    }
    if (change.gained.length === 0) return { taken: [], resume };
    for (const p of change.gained) this.#owned.add(p);
    await this.#restore(change.gained, change.member, resume);
    return { taken: change.gained, resume };
  }

  #forget(partitions: readonly number[]): void {
    const lost = new Set(partitions);
    const tickers = new Set<string>();
    for (const [ticker, p] of this.#partitionOf) if (lost.has(p)) tickers.add(ticker);
    this.engine.forget(tickers);
    this.engine.removePartitions(lost);
    for (const t of tickers) this.#partitionOf.delete(t);
    for (const p of lost) {
      this.#owned.delete(p);
      this.#next.delete(p);
    }
  }

  /** Takes over the checkpoints of gained partitions; `resume` gets the offset of each restored one. */
  async #restore(gained: readonly number[], member: GroupMember, resume: Map<number, bigint>): Promise<void> {
    const store = this.#store();
    const started = performance.now();
    let readBack = 0;
    const rows = await retryDb(() => loadCheckpoints(store, this.#group, this.#topic, gained));
    const committed = rows.length === 0 ? new Map<number, bigint>() : await member.committedOffsets(rows.map((r) => r.partition));
    const continued = rows.filter((row) => this.#continuable(row, committed.get(row.partition) ?? -1n));
    // A partition without a checkpoint to continue starts from its own beginning, as a partition
    // that has seen nothing: its trades are judged against its own progress, not against the
    // watermark the partitions already here have moved on (whose windows stay closed). First, so
    // that the checkpoints restored next keep their own event time.
    const fresh = new Set(gained);
    for (const row of continued) fresh.delete(row.partition);
    for (const p of fresh) this.engine.restore({ maxEventTimeMs: null, watermarkMs: null, tickers: {} }, [], p);
    for (const row of continued) {
      readBack += await this.#restorePartition(row);
      resume.set(row.partition, row.nextOffset);
      this.#next.set(row.partition, Number(row.nextOffset));
    }
    this.#reportRuleContinuity(continued);
    if (resume.size > 0) {
      const ms = Math.round(performance.now() - started);
      this.#warn(
        `resuming from checkpoint: ${[...resume].map(([p, o]) => `${this.#topic}:${p}@${o}`).join(', ')} (group ${this.#group}; ${readBack} waiting trades read back, ${ms} ms)`,
      );
    }
  }

  /**
   * Says once per run which rules start afresh because the rules changed since the checkpoint
   * (a rule's state is kept only into the same definition; severity may change freely).
   */
  #reportRuleContinuity(rows: readonly StoredCheckpoint[]): void {
    if (this.#rulesReported || rows.length === 0) return;
    this.#rulesReported = true;
    const fresh = new Set<string>();
    const kept = new Set<string>();
    for (const row of rows) {
      const c = this.engine.ruleContinuity(row.state);
      for (const n of c.fresh) fresh.add(n);
      for (const n of c.kept) kept.add(n);
    }
    for (const n of fresh) kept.delete(n);
    if (fresh.size > 0) {
      this.#warn(
        `the rules changed since the checkpoint: ${[...fresh].join(', ')} start${fresh.size === 1 ? 's' : ''} afresh (new or redefined)${kept.size > 0 ? `; ${[...kept].join(', ')} keep${kept.size === 1 ? 's' : ''} its state` : ''}`,
      );
    }
  }

  #continuable(row: StoredCheckpoint, groupAt: bigint): boolean {
    const where = `${this.#topic}:${row.partition}`;
    if (row.spec !== this.#fingerprint) {
      this.#warn(
        `checkpoint of ${where} (group ${this.#group}) was written with other candle/spike/out-of-orderness settings; its candles and spike baselines start afresh, reading resumes at the group's committed offset`,
      );
      return false;
    }
    // Offsets are committed only after their checkpoint, so a group offset ahead of it was set
    // by hand (a reset to skip ahead): honour it, without the state that belongs elsewhere.
    if (groupAt > row.nextOffset) {
      this.#warn(
        `${where}: the group's committed offset ${groupAt} is ahead of its checkpoint (${row.nextOffset}) — offsets were moved by hand? Reading resumes at ${groupAt}, the partition's candles and spike baselines start afresh`,
      );
      return false;
    }
    return true;
  }

  /** Restores one partition's state with the trades it was holding for the watermark; returns how many. */
  async #restorePartition(row: StoredCheckpoint): Promise<number> {
    const store = this.#store();
    const waiting = Object.entries(row.state.tickers).filter(([, t]) => t.pending > 0);
    const wm = checkpointWatermark(row.state, this.#spec.input.outOfOrdernessMs);
    const after = Number.isFinite(wm) ? wm : null;
    const trades = await retryDb(() =>
      pendingTrades(
        store,
        waiting.map(([t]) => t),
        after,
      ),
    );
    const expected = waiting.reduce((n, [, t]) => n + t.pending, 0);
    if (trades.length !== expected) {
      this.#warn(
        `checkpoint of ${this.#topic}:${row.partition}: ${expected} trades were waiting for the watermark, stock_trades holds ${trades.length} such trades (written by another pipeline?); spike alerts around the restart may differ`,
      );
    }
    const ties = waiting.flatMap(([, t]) => t.ties);
    this.engine.restore(row.state, orderPending(trades, ties), row.partition);
    for (const ticker of Object.keys(row.state.tickers)) this.#partitionOf.set(ticker, row.partition);
    if (after !== null) this.#checkStoredUntil = Math.max(this.#checkStoredUntil, after + 2 * this.#spec.dedupe.horizonMs);
    return trades.length;
  }

  #store(): Store {
    if (this.#run === null) throw new Error('PartitionCheckpoints: used before the run started');
    return this.#run.store;
  }
}

/** The database calls around the batches wait out an outage as the batch writes do (5 min). */
function retryDb<T>(fn: () => Promise<T>): Promise<T> {
  return withRetry(fn, { maxElapsedMs: 300_000 });
}
