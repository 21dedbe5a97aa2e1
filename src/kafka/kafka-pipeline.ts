import { checkpointWatermark, orderPending, type EngineState } from '../engine/engine-state.ts';
import { Engine } from '../engine/engine.ts';
import { emptyOutput, type EngineOutput, type RawRecord } from '../engine/records.ts';
import type { PipelineSpec } from '../spec/spec.ts';
import { withRetry } from '../pipeline/retry.ts';
import type { SqlStatement, Store } from '../store/store.ts';
import { parseTradeBytes, parseTradeText } from '../trade/parse.ts';
import { alertToJson } from './alert-json.ts';
import type { KafkaSettings } from './config.ts';
import { closeQuietly, connectAdmin } from './connect.ts';
import { loadCheckpoints, pendingTrades, saveCheckpoints, specFingerprint, splitByPartition, storedTradeIds } from './consumer-checkpoint.ts';
import { deadLetterRecord } from './dead-letter-record.ts';
import { KafkaSource, type AssignmentTaken, type Positions } from './kafka-source.ts';
import { BatchingProducer } from './producer.ts';
import { ensureTopics, pipelineTopics } from './topics.ts';

/**
 * The engine with what checkpoints need: each ticker's partition, and at the end of a finite
 * run the state from before finish() flushed every open window — a later run on the same group
 * goes on from the stream's real state, not from one where everything was closed early.
 */
class CheckpointedEngine extends Engine {
  #beforeFinish: EngineState | null = null;
  /**
   * Per partition, the offset after the last record processed. Not the source's positions:
   * those run ahead while a batch waits to be processed (beforeBatch is async), and a
   * checkpoint naming a record the state does not hold would skip it after a restart.
   */
  readonly #next = new Map<number, number>();

  constructor(spec: PipelineSpec) {
    super(spec, { checkpoints: true });
  }

  override process(record: RawRecord): void {
    super.process(record);
    this.#next.set(record.partition, record.offset + 1);
  }

  nextOffset(partition: number): number | undefined {
    return this.#next.get(partition);
  }

  /** A restored partition reads on from here. */
  resumeAt(partition: number, next: number): void {
    this.#next.set(partition, next);
  }

  /** These partitions now belong to another consumer: their tickers' state and positions go. */
  forgetPartitions(partitions: ReadonlySet<number>): void {
    this.forget(this.tickersOf(partitions));
    this.removePartitions(partitions);
    for (const p of partitions) this.#next.delete(p);
  }

  override finish(): void {
    this.#beforeFinish = this.state();
    super.finish();
  }

  checkpointState(): EngineState {
    return this.#beforeFinish ?? this.state();
  }
}

export interface KafkaPipelineOptions {
  settings: KafkaSettings;
  spec: PipelineSpec;
  groupId: string;
  exitAtEnd?: boolean;
  onWarning?: (line: string) => void;
}

/**
 * `run --source kafka`: a consumer-group member feeding the embedded engine, with alerts and
 * dead letters published to their topics. Per stored batch, in one database transaction that
 * commits strictly after the previous batch's:
 *   1. the batch's rows (trades, alerts, candles, dead letters), while its alerts and dead
 *      letters are produced (batch after batch, in order);
 *   2. once those are acknowledged (acks=all) and the previous batch committed: the
 *      checkpoint — per partition, the next offset and the engine state of its tickers.
 * Then the input offsets are committed to Kafka (for tools that watch lag; the checkpoint is
 * what a restart trusts). A crash anywhere leaves the database at the end of a batch with the
 * state that goes with it: a restarted member takes it over and reads on from the offsets it
 * names, so candles and spike baselines come out as if nothing had happened. Alerts were
 * published before the commit, so none is lost; a replayed batch may publish one again (same
 * alert_id).
 */
export class KafkaPipeline {
  readonly source: KafkaSource;
  readonly engine: Engine;
  readonly #engine: CheckpointedEngine;
  readonly #producer: BatchingProducer;
  readonly #spec: PipelineSpec;
  readonly #group: string;
  readonly #fingerprint: string;
  readonly #warn: (line: string) => void;
  readonly #positions = new WeakMap<EngineOutput, Positions>();
  /** Partitions whose state this member holds (and checkpoints). */
  readonly #owned = new Set<number>();
  #store: Store | null = null;
  /** Settles when the latest drained batch's alerts and dead letters are acknowledged. */
  #publishing: Promise<void> = Promise.resolve();
  #settle: () => Promise<void> = async () => {};
  /**
   * After a restore, until the watermark reaches this: a record whose trade_id is already stored
   * was seen before the checkpoint, so it is a duplicate (the restored engine does not carry the
   * ids it had seen; the table does). Past it, an uninterrupted engine would have forgotten them.
   */
  #checkStoredUntil = Number.NEGATIVE_INFINITY;
  readonly published = { alerts: 0, deadLetters: 0 };

  private constructor(source: KafkaSource, engine: CheckpointedEngine, producer: BatchingProducer, o: KafkaPipelineOptions) {
    this.source = source;
    this.engine = engine;
    this.#engine = engine;
    this.#producer = producer;
    this.#spec = o.spec;
    this.#group = o.groupId;
    this.#fingerprint = specFingerprint(o.spec);
    this.#warn = o.onWarning ?? (() => {});
  }

  static async open(o: KafkaPipelineOptions): Promise<KafkaPipeline> {
    const { settings, spec } = o;
    // Alerts and dead-letter topics are ours to create; the input topic must already exist
    // (a typo there should fail, not quietly create an empty topic).
    const admin = await connectAdmin(settings, '--source kafka');
    try {
      const [, alerts, dlq] = pipelineTopics({
        input: spec.input.topic,
        partitions: spec.input.partitions,
        alerts: spec.topics.alerts,
        deadLetters: spec.topics.deadLetters,
      });
      await ensureTopics(admin, [alerts!, dlq!]);
    } finally {
      await closeQuietly(admin);
    }
    let pipeline: KafkaPipeline | null = null;
    const source = new KafkaSource({
      settings,
      topic: spec.input.topic,
      groupId: o.groupId,
      maxRecordBytes: spec.input.maxRecordBytes,
      exitAtEnd: o.exitAtEnd ?? false,
      alignIdleMs: Math.min(500, spec.input.idleTimeoutMs || 500),
      // Well under the engine's idle timeout: a record the merge holds back has not reached the
      // engine, and must get there before its partition could be judged idle.
      idleTimeoutMs: Math.max(1, Math.floor((spec.input.idleTimeoutMs || 10_000) / 2)),
      ...(o.onWarning ? { onWarning: o.onWarning } : {}),
      onAssignment: (gained, lost, signal, assigned) => pipeline!.#onAssignment(gained, lost, signal, assigned),
    });
    const producer = await BatchingProducer.connect(settings, {
      role: 'outputs',
      lingerMs: 1,
      ...(o.onWarning ? { onOutage: o.onWarning } : {}),
    });
    try {
      await source.open();
    } catch (e) {
      await producer.abort();
      throw e;
    }
    pipeline = new KafkaPipeline(source, new CheckpointedEngine(spec), producer, o);
    return pipeline;
  }

  /**
   * Before the run starts: the database holding the data and the checkpoints, and how to get
   * everything read so far committed (PipelineRun.settle) before a partition is handed over.
   */
  attach(store: Store, settle: () => Promise<void>): void {
    this.#store = store;
    this.#settle = settle;
  }

  /**
   * PipelineRun's `checkpoint`: taken right after a drain, so the positions and the state are
   * those the drained output leaves behind.
   */
  readonly checkpoint = (out: EngineOutput): (() => Promise<readonly SqlStatement[]>) => {
    const topic = this.#spec.input.topic;
    const offsets = new Map<number, bigint>();
    const positions: Positions = new Map();
    for (const p of this.#owned) {
      const next = this.#engine.nextOffset(p);
      if (next === undefined) continue;
      offsets.set(p, BigInt(next));
      positions.set(`${topic}:${p}`, { topic, partition: p, offset: BigInt(next), leaderEpoch: -1 });
    }
    this.#positions.set(out, positions);
    const rows = splitByPartition(this.#engine.checkpointState(), (t) => this.#engine.partitionOf(t), offsets);
    const statements = rows.length > 0 ? [saveCheckpoints(this.#group, topic, this.#fingerprint, rows)] : [];
    // Alerts go out now, while the batch is written — in batch order, one batch after the
    // other — and the transaction commits only once they are acknowledged. A retried
    // transaction waits for the same publish instead of sending again.
    const published = this.#publishing.then(() => this.#publish(out));
    this.#publishing = published;
    published.catch(() => {});
    return async () => {
      await published;
      return statements;
    };
  };

  /** PipelineRun's `beforeBatch`: after a restore, stored trade ids count as seen. */
  readonly beforeBatch = async (records: RawRecord[]): Promise<void> => {
    if (this.#engine.watermarkMs >= this.#checkStoredUntil) return;
    const max = this.#spec.input.maxRecordBytes;
    const ids: string[] = [];
    for (const r of records) {
      const p = typeof r.value === 'string' ? parseTradeText(r.value, max) : parseTradeBytes(r.value, max);
      if (p.ok === true) ids.push(p.trade.tradeId);
    }
    const store = this.#needStore();
    this.#engine.rememberTradeIds(await retryDb(() => storedTradeIds(store, ids)));
  };

  /** PipelineRun's onCommitted: the batch and its checkpoint are stored; tell Kafka too. */
  readonly onCommitted = async (out: EngineOutput): Promise<void> => {
    const positions = this.#positions.get(out);
    if (positions !== undefined) await this.source.commit(positions);
  };

  async #publish(out: EngineOutput): Promise<void> {
    if (out.alerts.length === 0 && out.deadLetters.length === 0) return;
    const { alerts: alertsTopic, deadLetters: dlqTopic } = this.#spec.topics;
    for (const a of out.alerts) {
      await this.#producer.send({
        topic: alertsTopic,
        key: Buffer.from(a.trade.ticker),
        value: Buffer.from(JSON.stringify(alertToJson(a))),
      });
    }
    for (const d of out.deadLetters) await this.#producer.send(deadLetterRecord(d, dlqTopic));
    await this.#producer.flush();
    this.published.alerts += out.alerts.length;
    this.published.deadLetters += out.deadLetters.length;
  }

  /**
   * The group gave us partitions or took some away. Lost ones: their tickers' state goes (the
   * new owner restores it from the checkpoint). Gained ones: their checkpoint, if any, is taken
   * over and reading resumes at its offset.
   */
  async #onAssignment(gained: number[], lost: number[], signal: AbortSignal, assigned: (p: number) => boolean): Promise<AssignmentTaken> {
    const claims = this.#needStore().claims;
    const scope = `${this.#spec.input.topic}/${this.#group}`;
    if (lost.length > 0) {
      // Hand over cleanly: what we read from these partitions is committed with their
      // checkpoints, and only then may the new owner (waiting on the claim) load them.
      await this.#settle();
      // All at once, before the next await: a flush meanwhile must not checkpoint them empty.
      this.#engine.forgetPartitions(new Set(lost));
      for (const p of lost) this.#owned.delete(p);
      for (const p of lost) await retryDb(async () => claims?.release(scope, p));
    }
    const resume = new Map<number, bigint>();
    const claimed: number[] = [];
    for (const p of gained) {
      // The previous owner releases after its last commit (or dies, and its session with it).
      const onWaiting = (): void => this.#warn(`waiting for ${this.#spec.input.topic}:${p} to be handed over by its previous owner in group ${this.#group}`);
      // Stop waiting when we are stopping, or when a later rebalance gave the partition to
      // someone else (its owner may be waiting for ours).
      const wanted = (): boolean => !signal.aborted && assigned(p);
      if (claims !== null && !(await retryDb(() => claims.claim(scope, p, { wanted, onWaiting })))) {
        // None of these partitions becomes ours now; the source offers what is still assigned again.
        for (const q of claimed) await retryDb(async () => claims.release(scope, q));
        return { taken: [], resume };
      }
      claimed.push(p);
    }
    for (const p of gained) this.#owned.add(p);
    if (gained.length === 0) return { taken: [], resume };
    const store = this.#needStore();
    const topic = this.#spec.input.topic;
    const ooo = this.#spec.input.outOfOrdernessMs;
    const started = performance.now();
    let readBack = 0;
    const rows = await retryDb(() => loadCheckpoints(store, this.#group, topic, gained));
    const committed = rows.length === 0 ? new Map<number, bigint>() : await this.source.committedOffsets(rows.map((r) => r.partition));
    for (const row of rows) {
      if (row.spec !== this.#fingerprint) {
        this.#warn(
          `checkpoint of ${topic}:${row.partition} (group ${this.#group}) was written with other candle/spike/out-of-orderness settings; its candles and spike baselines start afresh, reading resumes at the group's committed offset`,
        );
        continue;
      }
      // We commit offsets only after their checkpoint, so a group offset ahead of it was set by
      // hand (a reset to skip ahead): honour it, without the state that belongs elsewhere.
      const groupAt = committed.get(row.partition) ?? -1n;
      if (groupAt > row.nextOffset) {
        this.#warn(
          `${topic}:${row.partition}: the group's committed offset ${groupAt} is ahead of its checkpoint (${row.nextOffset}) — offsets were moved by hand? Reading resumes at ${groupAt}, the partition's candles and spike baselines start afresh`,
        );
        continue;
      }
      const waiting = Object.entries(row.state.tickers).filter(([, t]) => t.pending > 0);
      const wm = checkpointWatermark(row.state, ooo);
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
          `checkpoint of ${topic}:${row.partition}: ${expected} trades were waiting for the watermark, stock_trades holds ${trades.length} such trades (written by another pipeline?); spike alerts around the restart may differ`,
        );
      }
      this.#engine.restore(
        row.state,
        orderPending(
          trades,
          waiting.flatMap(([, t]) => t.ties),
        ),
        row.partition,
      );
      if (after !== null) this.#checkStoredUntil = Math.max(this.#checkStoredUntil, after + 2 * this.#spec.dedupe.horizonMs);
      resume.set(row.partition, row.nextOffset);
      this.#engine.resumeAt(row.partition, Number(row.nextOffset));
      readBack += trades.length;
    }
    // Each gained partition holds the watermark back until it delivers or goes idle: a restored
    // one from its checkpoint's event time (restore, above), any other from its first record.
    // Only after the restores: each restore keeps the windows of the partitions already here
    // closed, and a partition gained now has none.
    for (const p of gained) this.#engine.addPartition(p);
    if (resume.size > 0) {
      const ms = Math.round(performance.now() - started);
      this.#warn(
        `resuming from checkpoint: ${[...resume].map(([p, o]) => `${topic}:${p}@${o}`).join(', ')} (group ${this.#group}; ${readBack} waiting trades read back, ${ms} ms)`,
      );
    }
    return { taken: gained, resume };
  }

  #needStore(): Store {
    if (this.#store === null) throw new Error('KafkaPipeline: attach(store) before the run');
    return this.#store;
  }

  /**
   * After a clean end of the run (every batch stored): checkpoint and commit the position of
   * everything read, including records that produced no output (duplicates: they still move
   * event time), so a restart neither re-reads them nor resumes from an older state.
   */
  async finish(): Promise<void> {
    await this.#producer.flush();
    const out = emptyOutput();
    const epilogue = this.checkpoint(out);
    for (const s of await epilogue()) await retryDb(() => this.#needStore().query(s.sql, [...s.params]));
    await this.onCommitted(out);
  }

  async close(): Promise<void> {
    await this.#producer.close().catch(() => {});
    await this.source.close();
  }
}

/** The database calls around the batches wait out an outage as the batch writes do (5 min). */
function retryDb<T>(fn: () => Promise<T>): Promise<T> {
  return withRetry(fn, { maxElapsedMs: 300_000 });
}
