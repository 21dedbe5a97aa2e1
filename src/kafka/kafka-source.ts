import { Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import type { RawRecord } from '../engine/records.ts';
import { withRetry } from '../pipeline/retry.ts';
import type { Source } from '../source/source.ts';
import { DEFAULT_MAX_RECORD_BYTES } from '../trade/parse.ts';
import { clientOptions, type KafkaSettings } from './config.ts';
import { closeQuietly, ensureReachable } from './connect.ts';
import { describeKafkaError, isKafkaOutage, topicMissing, unavailable } from './errors.ts';
import type { GroupMember, PartitionOwner } from './checkpoints/partition-checkpoints.ts';
import { PartitionMerge } from './partition-merge.ts';
import { decodeFlatTradeBytes } from '../trade/flat-trade-decoder.ts';
import { recordEventTime } from './trade-record.ts';

export interface KafkaSourceOptions {
  settings: KafkaSettings;
  topic: string;
  groupId: string;
  /** Records per batch handed to the engine. */
  maxBatchRecords?: number;
  /** The spec's record size limit: a larger record has no event time for the merge, as the engine rejects it. */
  maxRecordBytes?: number;
  /** Stop once every assigned partition has reached the end offset it had at start. */
  exitAtEnd?: boolean;
  /** A caught-up partition with nothing new holds the time-aligned merge back this long. */
  alignIdleMs?: number;
  /** An empty partition holds the merge back at most this long. */
  idleTimeoutMs?: number;
  /** A group member silent this long is declared dead and its partitions move on. */
  sessionTimeoutMs?: number;
  /** After the first connect, how long a lost broker is waited for before the source fails. */
  maxOutageMs?: number;
  onWarning?: (line: string) => void;
  /**
   * Who holds the state of the partitions (the checkpoints): asked on every change of the
   * assignment (the first too), before any record of a gained partition is handed out; it
   * says which it took (one not taken yet is offered again while it stays assigned) and where
   * to resume them. Without an owner, every assigned partition is read from the group's
   * committed offset.
   */
  owner?: PartitionOwner;
}

type Msg = Message<Buffer, Buffer, Buffer, Buffer>;
const EMPTY = Buffer.alloc(0);

/**
 * A consumer-group member as a pipeline Source. Offsets are never committed automatically:
 * the pipeline commits them (commit()) only after the database transaction holding the
 * records' effects has committed, so a crash replays from the last stored point and the
 * idempotent writes absorb the replay.
 */
export class KafkaSource implements Source, GroupMember {
  readonly description: string;
  readonly #o: Required<Omit<KafkaSourceOptions, 'onWarning' | 'owner'>> & Pick<KafkaSourceOptions, 'onWarning' | 'owner'>;
  /** The partitions assigned now (null before the first assignment). */
  #lanes: Set<number> | null = null;
  #consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | null = null;
  #stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | null = null;
  /** Per partition, the offset after the last record handed to the engine. */
  readonly #handedOut = new Map<number, bigint>();
  /** End offsets at start, for exitAtEnd. */
  #endOffsets: bigint[] | null = null;
  /** Latest known end offsets, refreshed every second: tells a dry partition from a slow fetch. */
  #latestEnds: bigint[] = [];
  #endsTimer: NodeJS.Timeout | null = null;
  readonly #merge: PartitionMerge<RawRecord>;
  #wake: (() => void) | null = null;
  /** At the hard cap: dry partitions stop holding the merge until a batch's worth has gone. */
  #draining = false;
  #failure: unknown = null;
  #paused = false;
  #read = 0;
  /** Per partition, the offset after the last record buffered: a refetch after a reconnect skips what we have. */
  readonly #fetchedUpTo = new Map<number, bigint>();
  #recovering = false;
  #closed = false;
  /** Records buffered at most before fetching pauses. */
  readonly #hardCap: number;

  constructor(o: KafkaSourceOptions) {
    this.#o = {
      maxBatchRecords: 5_000,
      maxRecordBytes: DEFAULT_MAX_RECORD_BYTES,
      exitAtEnd: false,
      alignIdleMs: 500,
      idleTimeoutMs: 10_000,
      sessionTimeoutMs: 10_000,
      maxOutageMs: 300_000,
      ...o,
    };
    this.#merge = new PartitionMerge();
    this.#hardCap = 20 * this.#o.maxBatchRecords;
    this.description = `kafka ${o.topic} (group ${o.groupId}, ${o.settings.brokers.join(',')})`;
  }

  /** Joins the group and starts fetching; bounded by the connect timeout. */
  async open(): Promise<void> {
    await this.#connect(true);
    this.#endsTimer = setInterval(() => {
      this.#consumer?.listOffsets({ topics: [this.#o.topic] }).then(
        (o) => {
          this.#latestEnds = o.get(this.#o.topic) ?? this.#latestEnds;
        },
        () => {},
      );
    }, 1_000);
    this.#endsTimer.unref();
  }

  async #connect(first: boolean): Promise<void> {
    const { settings, topic, groupId } = this.#o;
    const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
      ...clientOptions(settings, 'consumer'),
      groupId,
      sessionTimeout: this.#o.sessionTimeoutMs,
      rebalanceTimeout: Math.max(this.#o.sessionTimeoutMs, 15_000),
      heartbeatInterval: 1_000,
      autocommit: false,
      maxWaitTime: 200,
      // Small per-partition fetches keep partitions interleaved: one 4 MiB fetch of a dense
      // partition (~130k records) overflowed the merge buffer before the others arrived and
      // made a third of a 600k backlog late; at 512 KiB, 322 of 600k (see docs/kafka.md).
      maxBytesPerPartition: 512 * 1024,
    });
    let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>;
    try {
      await ensureReachable(consumer, settings, '--source kafka');
      const meta = await consumer.metadata({ topics: [topic], autocreateTopics: false }).catch((e: unknown) => {
        throw topicMissing(topic, ` [${describeKafkaError(e)}]`);
      });
      if (!meta.topics.has(topic)) throw topicMissing(topic);
      this.#latestEnds = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
      if (first && this.#o.exitAtEnd) this.#endOffsets = [...this.#latestEnds];
      stream = await withTimeout(
        consumer.consume({
          topics: [topic],
          mode: 'committed',
          // A new group starts at the beginning: `produce` then `run` must see every trade.
          fallbackMode: 'earliest',
          autocommit: false,
          highWaterMark: 8_192,
        }),
        settings.connectTimeoutMs + this.#o.sessionTimeoutMs,
        () => unavailable(settings, '--source kafka', new Error('joining the consumer group timed out')),
      );
    } catch (e) {
      await closeQuietly(consumer);
      throw e;
    }
    this.#consumer = consumer;
    this.#stream = stream;
    this.#paused = false;
    consumer.on('consumer:group:join', () => this.#syncLanes());
    this.#syncLanes();
    stream.on('data', (m: Msg) => {
      const p = m.partition;
      // A fetch answered after its partition was revoked: the partition's new owner reads it.
      // (Taken in, it would rebuild state for tickers that are no longer ours.)
      if (this.#lanes !== null && !this.#lanes.has(p)) return;
      // After a reconnect the group resumes from the last commit: records already buffered or
      // handed to the engine come again, and are dropped here rather than counted twice.
      if (m.offset < (this.#fetchedUpTo.get(p) ?? this.#handedOut.get(p) ?? -1n)) return;
      this.#fetchedUpTo.set(p, m.offset + 1n);
      // The record's Kafka timestamp is when it was written (docs/kafka.md): merged by event time,
      // read from the payload. The engine takes the decoded trade over rather than reading it again.
      const value = m.value ?? EMPTY;
      const decoded = decodeFlatTradeBytes(value, this.#o.maxRecordBytes);
      const record: RawRecord = { value, source: m.topic, partition: p, offset: Number(m.offset), decoded };
      this.#merge.push(p, decoded !== null ? decoded.tsMs : recordEventTime(value, this.#o.maxRecordBytes), record);
      // Backpressure: a full buffer stops fetching until the engine has taken its share.
      const size = this.#merge.size;
      if (!this.#paused && (size >= this.#hardCap || (size >= 4 * this.#o.maxBatchRecords && !this.#merge.blocked))) {
        this.#paused = true;
        stream.pause();
      }
      this.#notify();
    });
    stream.on('error', (e: unknown) => {
      if (this.#stream !== stream) return;
      if (isKafkaOutage(e)) {
        void this.#recover(e);
        return;
      }
      this.#failure ??= e;
      this.#notify();
    });
  }

  /**
   * The broker went away (a restart, a network cut): drop the client and join again, with
   * backoff, for up to maxOutageMs. What was read stays in the engine; the new member resumes
   * from the committed offsets and the records we already have are skipped.
   */
  async #recover(cause: unknown): Promise<void> {
    if (this.#recovering || this.#closed) return;
    this.#recovering = true;
    const since = Date.now();
    this.#o.onWarning?.(`Kafka consumer lost the broker (${describeKafkaError(cause)}); reconnecting for up to ${Math.round(this.#o.maxOutageMs / 1000)} s`);
    await this.#dropClient();
    try {
      await withRetry(() => (this.#closed ? Promise.reject(new Error('closed')) : this.#connect(false)), {
        maxElapsedMs: this.#o.maxOutageMs,
        retriable: () => !this.#closed,
        firstDelayMs: 500,
        maxDelayMs: 4_000,
      });
      this.#o.onWarning?.(`Kafka consumer reconnected after ${((Date.now() - since) / 1000).toFixed(1)} s`);
    } catch (e) {
      if (!this.#closed) this.#failure ??= e;
    }
    this.#recovering = false;
    this.#notify();
  }

  async #dropClient(): Promise<void> {
    const c = this.#consumer;
    const stream = this.#stream;
    this.#consumer = null;
    this.#stream = null;
    if (stream !== null) await withTimeout(stream.close(), 5_000, () => new Error('close timed out')).catch(() => {});
    if (c !== null) await closeQuietly(c);
  }

  async *batches(signal: AbortSignal): AsyncIterable<RawRecord[]> {
    if (this.#stream === null) await this.open();
    const onAbort = (): void => this.#notify();
    signal.addEventListener('abort', onAbort);
    try {
      let idleSince = performance.now();
      while (!signal.aborted) {
        if (this.#failure !== null) throw new Error(`kafka consumer failed: ${describeKafkaError(this.#failure)}`);
        await this.#followAssignment(signal);
        // Stopped while waiting for a partition's previous owner: hand nothing more out.
        if (signal.aborted) break;
        const now = performance.now();
        const atEnd = this.#o.exitAtEnd && this.#caughtUp();
        const msgs = this.#merge.take(this.#o.maxBatchRecords, now, this.#mayPass);
        // Fetch again when the buffer is low — or when the merge waits for a partition whose
        // records are still on the broker: pausing then would wait for ever (memory stays
        // bounded by the hard cap below).
        if (
          this.#paused &&
          this.#stream !== null &&
          (this.#merge.size < this.#o.maxBatchRecords || (this.#merge.blocked && this.#merge.size < this.#hardCap))
        ) {
          this.#paused = false;
          this.#stream.resume();
        }
        if (msgs.length > 0) {
          idleSince = now;
          yield this.#toRecords(msgs);
          continue;
        }
        if (atEnd && this.#merge.size === 0) return;
        // Nothing to hand over: an empty batch now and then lets the pipeline flush on time.
        if (now - idleSince >= 100) {
          idleSince = now;
          yield [];
          continue;
        }
        await this.#sleep(50);
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Tells the owner about a changed assignment, and resumes gained partitions where it says —
   * again and again until the assignment holds still, so that no record of a partition is
   * handed out before the owner took it (a rebalance can land while the owner waits).
   */
  async #followAssignment(signal: AbortSignal): Promise<void> {
    const owner = this.#o.owner;
    if (owner === undefined) return;
    for (;;) {
      const assigned = this.#assigned();
      if (assigned === null || signal.aborted) return;
      const now = new Set(assigned);
      const gained = assigned.filter((p) => !owner.owned.has(p));
      const lost = [...owner.owned].filter((p) => !now.has(p));
      if (gained.length === 0 && lost.length === 0) return;
      for (const p of lost) this.#handedOut.delete(p);
      const { resume } = await owner.onAssignment({
        gained,
        lost,
        signal,
        isAssigned: (p) => this.#assigned()?.includes(p) === true,
        member: this,
      });
      for (const [p, offset] of resume) {
        // Records below the resume offset were stored before; #toRecords drops them.
        this.#handedOut.set(p, offset);
        if ((this.#fetchedUpTo.get(p) ?? -1n) < offset) this.#fetchedUpTo.set(p, offset);
      }
    }
  }

  async committedOffsets(partitions: readonly number[]): Promise<Map<number, bigint>> {
    const out = new Map<number, bigint>();
    const consumer = this.#consumer;
    if (consumer === null || partitions.length === 0) return out;
    const committed = (await consumer.listCommittedOffsets({ topics: [{ topic: this.#o.topic, partitions: [...partitions] }] })).get(this.#o.topic) ?? [];
    for (const p of partitions) out.set(p, committed[p] ?? -1n);
    return out;
  }

  get recordsRead(): number {
    return this.#read;
  }

  /**
   * Commits positions the pipeline has stored. A commit that fails because the group moved on
   * (a rebalance) is not an error: the partition's new owner replays from the previous
   * commit, and the database absorbs the replay.
   */
  async commitOffsets(next: ReadonlyMap<number, bigint>): Promise<void> {
    if (this.#consumer === null || next.size === 0) return;
    const topic = this.#o.topic;
    try {
      await this.#consumer.commit({ offsets: [...next].map(([partition, offset]) => ({ topic, partition, offset, leaderEpoch: -1 })) });
    } catch (e) {
      this.#o.onWarning?.(`offset commit skipped (${describeKafkaError(e)}); those records may be read again — writes are idempotent`);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#endsTimer !== null) clearInterval(this.#endsTimer);
    await this.#dropClient();
  }

  #toRecords(records: RawRecord[]): RawRecord[] {
    // Fetched before a checkpoint said where to resume: already stored.
    const from: number[] = [];
    for (const [p, next] of this.#handedOut) from[p] = Number(next);
    const out = this.#handedOut.size === 0 ? records : records.filter((r) => r.offset >= (from[r.partition] ?? -1));
    const last: number[] = [];
    for (const r of out) last[r.partition] = r.offset;
    for (const [p, offset] of last.entries()) if (offset !== undefined) this.#handedOut.set(p, BigInt(offset + 1));
    this.#read += out.length;
    return out;
  }

  /** Lanes follow the assignment: new partitions hold the merge until they deliver or go idle. */
  #syncLanes(): void {
    const assigned = this.#assigned();
    if (assigned === null) return;
    const now = performance.now();
    const lanes = new Set<number>();
    for (const p of assigned) {
      lanes.add(p);
      this.#merge.ensureLane(p, now);
    }
    this.#merge.retain(lanes);
    this.#lanes = lanes;
    // What a revoked partition had buffered is gone: if it comes back, fetch it again.
    for (const p of this.#fetchedUpTo.keys()) if (!lanes.has(p)) this.#fetchedUpTo.delete(p);
  }

  /**
   * The engine must not judge these partitions idle: they have records buffered here or still
   * on the broker (a backlog, a fetch under way). All of them while the broker is away.
   */
  busyPartitions(): Iterable<number> | 'all' {
    const assigned = this.#assigned();
    if (assigned === null || this.#stream === null || this.#recovering) return 'all';
    const busy: number[] = [];
    for (const p of assigned) {
      if (this.#merge.buffered(p) > 0 || this.#deliveredUpTo(p) < (this.#latestEnds[p] ?? 0n)) busy.push(p);
    }
    return busy;
  }

  #assigned(): number[] | null {
    const a = this.#consumer?.assignments;
    if (a === null || a === undefined) return null;
    return a.filter((x) => x.topic === this.#o.topic).flatMap((x) => x.partitions);
  }

  /**
   * Whether the merge may go on without an empty partition: one that still has records on the
   * broker is waiting for a fetch (wait for it, up to the idle timeout); one that is caught up
   * may only be quiet, so it holds the merge back briefly, in case a record is just arriving.
   */
  readonly #mayPass = (partition: number, emptyForMs: number): boolean => {
    if (emptyForMs >= this.#o.idleTimeoutMs) return true;
    // The buffer is full (fetching paused) yet this partition is dry: its next records cannot
    // arrive before the others drain, so waiting would stall everything. Skewed partitions
    // (one far behind in event time) end up here; alignment yields to progress, and the
    // engine's per-partition watermark keeps the dry partition's trades on time. It yields a
    // batch's worth at a time: one record per arrival at the cap would hand the pipeline batches
    // of one record, each paying a batch's fixed cost.
    if (this.#merge.size >= this.#hardCap) this.#draining = true;
    else if (this.#merge.size <= this.#hardCap - this.#o.maxBatchRecords) this.#draining = false;
    if (this.#draining) return true;
    const end = this.#latestEnds[partition] ?? 0n;
    const next = this.#deliveredUpTo(partition);
    return next >= end && emptyForMs >= (this.#o.exitAtEnd ? 0 : this.#o.alignIdleMs);
  };

  /**
   * The offset after the last record of this partition that reached us. The client's
   * offsetsToFetch runs ahead of that while fetched records wait in the stream's buffer (a
   * paused stream keeps up to highWaterMark of them); taking it for "caught up" let the other
   * partitions run ahead in event time and made the waiting records late. So it only counts
   * for a partition that delivered nothing yet, and only when the buffer is empty.
   */
  #deliveredUpTo(partition: number): bigint {
    const known = this.#fetchedUpTo.get(partition) ?? this.#handedOut.get(partition);
    if (known !== undefined) return known;
    const stream = this.#stream;
    return stream !== null && stream.readableLength === 0 ? (stream.offsetsToFetch.get(`${this.#o.topic}:${partition}`) ?? -1n) : -1n;
  }

  #caughtUp(): boolean {
    const assigned = this.#assigned();
    const ends = this.#endOffsets;
    const stream = this.#stream;
    if (assigned === null || ends === null || stream === null) return false;
    for (const p of assigned) if (this.#deliveredUpTo(p) < (ends[p] ?? 0n)) return false;
    return true;
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(error()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
