import { Consumer, ListOffsetTimestamps, Producer } from '@platformatic/kafka';
import { type ParseResult, parseTradeBytes } from '../trade/parse.ts';
import { formatTimestamp, MAX_EVENT_TIME_MS } from '../trade/trade.ts';
import { clientOptions, type KafkaSettings } from './config.ts';
import { closeQuietly, ensureReachable } from './connect.ts';
import { describeKafkaError, topicMissing } from './errors.ts';

/** The heartbeat record of docs/architecture.md: exactly one member, an ISO-8601 time. */
export function heartbeatJson(tsMs: number): string {
  return JSON.stringify({ heartbeat: formatTimestamp(tsMs) });
}

/** How many records at a partition's end are read for its newest event time. */
const TAIL_RECORDS = 500n;
const TAIL_BYTES = 1 << 20;
/** New records up to this many are read to see whether they are only heartbeats (another writer's); more are activity. */
const FOREIGN_BEATS_MAX = 64n;

export interface HeartbeatWriterOptions {
  settings: KafkaSettings;
  topic: string;
  /** spec.input.idleTimeoutMs: how long every partition must have been silent. */
  idleTimeoutMs: number;
  intervalMs: number;
  /** spec.input.maxRecordBytes, for reading the tail as the engines read it. */
  maxRecordBytes: number;
  log?: (line: string) => void;
  now?: () => number;
}

interface PartitionState {
  end: bigint;
  /** Heartbeats this writer appended since `end` was listed: they are not activity. */
  ours: number;
  /** Wall time the end offset last moved by someone else's record (or the writer started). */
  changedAt: number;
  /** The newest event time in the partition's tail; undefined: not read since the last activity; null: none there. */
  eventMs: number | null | undefined;
  lastBeatMs: number;
}

/**
 * Keeps event time moving on a topic whose producers have all stopped, for the Flink job, whose
 * Kafka source has no idle-advance of its own (docs/flink.md, "Heartbeats"). Each tick it lists
 * the partitions' end offsets; a partition whose end moved by records other than heartbeats had
 * activity. Once every partition has been silent for the idle timeout, each partition with an
 * event time gets a heartbeat at
 *   newest event time in its tail + (now − when its end last moved),
 * so event time follows the wall clock from where the partition's own data stopped — never to
 * "now" (a replay dated months ago advances from its own last time), and never ahead of what a
 * producer resuming on that partition in step with its data would write. While any partition is
 * active nothing is written: Flink's idle timeout already leaves silent partitions out, and a
 * heartbeat there would make a lagging partition hold the others back.
 */
export class HeartbeatWriter {
  readonly #o: Required<Omit<HeartbeatWriterOptions, 'log' | 'now'>> & { log: (line: string) => void; now: () => number };
  #consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | null = null;
  #producer: Producer<Buffer, Buffer, Buffer, Buffer> | null = null;
  #partitions: PartitionState[] = [];
  #beating = false;
  #stopped = false;
  #wake: (() => void) | null = null;
  /** Heartbeats written, for status lines and tests. */
  written = 0;

  constructor(o: HeartbeatWriterOptions) {
    this.#o = { log: () => {}, now: Date.now, ...o };
  }

  /** Connects both clients and checks the topic (bounded by the connect timeout). */
  async open(): Promise<void> {
    const { settings, topic } = this.#o;
    this.#consumer = new Consumer({ ...clientOptions(settings, 'heartbeat-reader'), groupId: 'tickflow-heartbeat', autocommit: false });
    this.#producer = new Producer({ ...clientOptions(settings, 'heartbeat'), idempotent: true, acks: -1 });
    try {
      await ensureReachable(this.#consumer, settings, 'heartbeat');
      const meta = await this.#consumer.metadata({ topics: [topic], autocreateTopics: false }).catch((e: unknown) => {
        throw topicMissing(topic, ` [${describeKafkaError(e)}]`);
      });
      if (!meta.topics.has(topic)) throw topicMissing(topic);
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  /** Ticks every interval until stop(). A failed tick is retried at the next one, its error said once until it changes. */
  async run(): Promise<void> {
    let lastError = '';
    while (!this.#stopped) {
      try {
        await this.tick();
        if (lastError !== '') this.#o.log('heartbeat: Kafka answers again');
        lastError = '';
      } catch (e) {
        const error = describeKafkaError(e);
        if (error !== lastError) this.#o.log(`heartbeat: ${error} (retrying every ${this.#o.intervalMs / 1000} s)`);
        lastError = error;
      }
      if (this.#stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#o.intervalMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#wake?.();
  }

  async close(): Promise<void> {
    this.stop();
    await Promise.all([this.#consumer, this.#producer].map((c) => (c === null ? undefined : closeQuietly(c))));
    this.#consumer = null;
    this.#producer = null;
  }

  /** One look at the partitions, and the heartbeats it calls for. */
  async tick(): Promise<void> {
    const consumer = this.#consumer!;
    const { topic, idleTimeoutMs } = this.#o;
    const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
    const now = this.#o.now();
    for (const [p, end] of ends.entries()) {
      const st = this.#partitions[p];
      if (st === undefined) {
        this.#partitions[p] = { end, ours: 0, changedAt: now, eventMs: undefined, lastBeatMs: -1 };
        continue;
      }
      if (end !== st.end && end - st.end !== BigInt(st.ours) && !(await this.#onlyHeartbeats(p, st.end, end))) {
        st.changedAt = now;
        st.eventMs = undefined;
      }
      st.end = end;
      st.ours = 0;
    }
    const idle = this.#partitions.length > 0 && this.#partitions.every((st) => now - st.changedAt >= idleTimeoutMs);
    if (!idle) {
      if (this.#beating) this.#o.log('heartbeat: trades again, heartbeats stopped');
      this.#beating = false;
      return;
    }
    for (const [p, st] of this.#partitions.entries()) {
      if (st.eventMs === undefined) st.eventMs = await this.#newestEventTime(p, st.end);
      if (st.eventMs === null) continue;
      const beatMs = Math.min(MAX_EVENT_TIME_MS, st.eventMs + (now - st.changedAt));
      if (beatMs <= st.lastBeatMs) continue;
      await this.#producer!.send({ messages: [{ topic, partition: p, value: Buffer.from(heartbeatJson(beatMs)) }] });
      st.ours++;
      st.lastBeatMs = beatMs;
      this.written++;
    }
    if (!this.#beating) {
      const times = this.#partitions.map((st, p) => `${p}: ${st.eventMs == null ? 'no event time' : formatTimestamp(st.eventMs)}`);
      this.#o.log(`heartbeat: every partition idle for ${idleTimeoutMs / 1000} s, writing heartbeats from the newest event times (${times.join(', ')})`);
    }
    this.#beating = true;
  }

  /**
   * A few new records that are all heartbeats are another writer's (or a restarted one's), not
   * activity: two writers on one topic would otherwise silence each other for an idle timeout
   * after every heartbeat. Their times are not taken over: this writer's stay its own base + idle
   * time, and a lower heartbeat than the partition's newest changes nothing.
   */
  async #onlyHeartbeats(partition: number, from: bigint, end: bigint): Promise<boolean> {
    if (end <= from || end - from > FOREIGN_BEATS_MAX) return false;
    const records = await this.#read(partition, from, end);
    return records.length === Number(end - from) && records.every((r) => r.ok === 'heartbeat');
  }

  /** The newest event time (trade or heartbeat) among the partition's last records; null if none has one. */
  async #newestEventTime(partition: number, end: bigint): Promise<number | null> {
    const { topic } = this.#o;
    const starts = await this.#consumer!.listOffsets({ topics: [topic], partitions: { [topic]: [partition] }, timestamp: ListOffsetTimestamps.EARLIEST });
    const earliest = starts.get(topic)?.[partition] ?? 0n;
    const from = end - TAIL_RECORDS > earliest ? end - TAIL_RECORDS : earliest;
    if (from >= end) return null;
    let newest: number | null = null;
    for (const r of await this.#read(partition, from, end)) {
      const ms = r.ok === 'heartbeat' ? r.tsMs : r.ok ? r.trade.tsMs : null;
      if (ms !== null && (newest === null || ms > newest)) newest = ms;
    }
    return newest;
  }

  /** The partition's records in [from, end) (at most 1 MiB of them), parsed as the engines parse them. */
  async #read(partition: number, from: bigint, end: bigint): Promise<ParseResult[]> {
    const consumer = this.#consumer!;
    const { topic } = this.#o;
    const meta = await consumer.metadata({ topics: [topic] });
    const t = meta.topics.get(topic)!;
    const response = await consumer.fetch({
      node: t.partitions[partition]!.leader,
      maxWaitTime: 0,
      minBytes: 1,
      maxBytes: TAIL_BYTES,
      topics: [{ topicId: t.id, partitions: [{ partition, fetchOffset: from, partitionMaxBytes: TAIL_BYTES, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }],
    });
    const out: ParseResult[] = [];
    for (const part of response.responses.flatMap((r) => r.partitions)) {
      for (const batch of part.records ?? []) {
        for (const record of batch.records) {
          const offset = batch.firstOffset + BigInt(record.offsetDelta);
          if (offset < from || offset >= end) continue;
          // A tombstone is an empty record to the engines.
          out.push(parseTradeBytes(record.value ?? Buffer.alloc(0), this.#o.maxRecordBytes));
        }
      }
    }
    return out;
  }
}
