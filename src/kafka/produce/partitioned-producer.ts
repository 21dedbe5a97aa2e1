import { murmur2 } from '@platformatic/kafka';
import { withRetry } from '../../pipeline/retry.ts';
import { clientOptions, type KafkaSettings } from '../config.ts';
import { closeQuietly, ensureReachable } from '../connect.ts';
import { describeKafkaError, isKafkaOutage, topicMissing } from '../errors.ts';
import type { Compression, ProducerStats } from '../producer.ts';
import { BatchClient } from './batch-client.ts';
import { RecordBatchBuilder, type SealedBatch } from './record-batch.ts';

export interface PartitionedProducerOptions {
  topic: string;
  compression?: Compression;
  /** A request goes out when it holds this many records… */
  batchRecords?: number;
  /** …or this many bytes (uncompressed, all partitions)… */
  batchBytes?: number;
  /** …or this long after its first record (Java's linger.ms). */
  lingerMs?: number;
  /** How long a request keeps being retried while the broker is away before the producer fails. */
  maxOutageMs?: number;
  /** Told once when an outage starts and once when it ends. */
  onOutage?: (line: string) => void;
}

/**
 * The producer of `tickflow produce`: one topic, idempotent, acks=all, and records encoded into
 * their partition's batch as they are added (see record-batch.ts for why). It behaves as
 * BatchingProducer did for this command: a request holds up to `batchRecords` records or
 * `batchBytes` bytes over all partitions, one request is on the wire while the next fills,
 * keyed records go where Java's producer puts them (murmur2(key) & 0x7fffffff modulo the
 * partition count), keyless ones rotate over the partitions, and an outage is retried.
 *
 * `add` returns undefined when the caller may go on at once and a promise when it must wait
 * (a full request behind the one on the wire): no promise per record.
 */
export class PartitionedProducer {
  readonly stats: ProducerStats = { queued: 0, acked: 0, bytes: 0, requests: 0 };
  readonly #client: BatchClient;
  readonly #topic: string;
  readonly #partitions: number;
  readonly #compression: Compression;
  readonly #batchRecords: number;
  readonly #batchBytes: number;
  readonly #lingerMs: number;
  readonly #maxOutageMs: number;
  readonly #onOutage: (line: string) => void;
  readonly #builders: RecordBatchBuilder[];
  /** The partition of each key seen: tickers repeat, and murmur2 here works on BigInts. */
  readonly #partitionOf = new Map<Buffer, number>();
  #roundRobin = 0;
  #records = 0;
  #bytes = 0;
  #linger: NodeJS.Timeout | null = null;
  #inflight: Promise<void> | null = null;
  #failure: unknown = null;

  private constructor(client: BatchClient, partitions: number, o: PartitionedProducerOptions) {
    this.#client = client;
    this.#topic = o.topic;
    this.#partitions = partitions;
    this.#compression = o.compression ?? 'lz4';
    this.#batchRecords = o.batchRecords ?? 16_384;
    // The broker refuses a partition batch over message.max.bytes (1 MiB by default); staying
    // under it uncompressed keeps every request valid whatever the codec achieves.
    this.#batchBytes = o.batchBytes ?? 900_000;
    this.#lingerMs = o.lingerMs ?? 5;
    this.#maxOutageMs = o.maxOutageMs ?? 300_000;
    this.#onOutage = o.onOutage ?? (() => {});
    this.#builders = Array.from({ length: partitions }, () => new RecordBatchBuilder());
  }

  /** Connects (bounded by the connect timeout), registers the producer id, reads the partition count. */
  static async connect(settings: KafkaSettings, o: PartitionedProducerOptions): Promise<PartitionedProducer> {
    const client = new BatchClient({ ...clientOptions(settings, 'producer'), idempotent: true, acks: -1 });
    try {
      await ensureReachable(client, settings, 'produce');
      await client.initIdempotentProducer({});
      const metadata = await client.metadata({ topics: [o.topic] });
      const partitions = metadata.topics.get(o.topic)?.partitionsCount ?? 0;
      if (partitions === 0) throw topicMissing(o.topic);
      return new PartitionedProducer(client, partitions, o);
    } catch (e) {
      await closeQuietly(client);
      throw e;
    }
  }

  add(key: Buffer | undefined, value: Buffer): Promise<void> | undefined {
    this.#throwIfFailed();
    const size = value.length + (key?.length ?? 0) + 16;
    // A big record closes the request before it rather than growing it past the broker's limit.
    if (this.#records > 0 && this.#bytes + size > this.#batchBytes) return this.#dispatch().then(() => this.add(key, value));
    this.#builders[this.#partition(key)]!.append(key, value);
    this.#records++;
    this.#bytes += size;
    this.stats.queued++;
    if (this.#records >= this.#batchRecords || this.#bytes >= this.#batchBytes) return this.#dispatch();
    if (this.#linger === null) {
      this.#linger = setTimeout(() => {
        this.#linger = null;
        this.#dispatch().catch(() => {});
      }, this.#lingerMs);
    }
    return undefined;
  }

  /** Everything added so far is acknowledged by the broker when this resolves. */
  async flush(): Promise<void> {
    await this.#dispatch();
    await this.#inflight;
    this.#throwIfFailed();
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      if (this.#linger !== null) clearTimeout(this.#linger);
      await closeQuietly(this.#client);
    }
  }

  /** Abandons unsent records (used on fatal errors). */
  async abort(): Promise<void> {
    if (this.#linger !== null) clearTimeout(this.#linger);
    this.#records = 0;
    await closeQuietly(this.#client);
  }

  #partition(key: Buffer | undefined): number {
    if (key === undefined) return this.#roundRobin++ % this.#partitions;
    let p = this.#partitionOf.get(key);
    if (p === undefined) {
      p = (murmur2(key) & 0x7fffffff) % this.#partitions;
      // Keys made per record (not one Buffer per ticker) would only grow the map.
      if (this.#partitionOf.size < 10_000) this.#partitionOf.set(key, p);
    }
    return p;
  }

  async #dispatch(): Promise<void> {
    if (this.#linger !== null) {
      clearTimeout(this.#linger);
      this.#linger = null;
    }
    // One request on the wire at a time: the idempotent client keeps one in flight per broker.
    while (this.#inflight !== null) await this.#inflight;
    this.#throwIfFailed();
    if (this.#records === 0) return;
    // Every record of a request is stamped with the time it is sealed, as the client stamped
    // them with the time it built the request.
    const now = Date.now();
    const messages: { topic: string; partition: number; value: SealedBatch }[] = [];
    for (let p = 0; p < this.#partitions; p++) {
      const b = this.#builders[p]!;
      if (b.count > 0) messages.push({ topic: this.#topic, partition: p, value: b.seal(this.#compression, now) });
    }
    const records = this.#records;
    const bytes = this.#bytes;
    this.#records = 0;
    this.#bytes = 0;
    this.stats.requests++;
    const request = this.#sendRetrying(messages)
      .then(
        () => {
          this.stats.acked += records;
          this.stats.bytes += bytes;
        },
        (e: unknown) => {
          this.#failure ??= e;
        },
      )
      .finally(() => {
        if (this.#inflight === request) this.#inflight = null;
      });
    this.#inflight = request;
  }

  /**
   * A request the broker could not take because it is away is sent again with backoff until it
   * is acknowledged or the outage outlasts maxOutageMs. If the client had to register a new
   * producer id meanwhile, an acknowledgement lost with the old one may leave a batch twice on
   * the topic: the records carry their trade_id and the consumer drops the replay.
   */
  async #sendRetrying(messages: { topic: string; partition: number; value: SealedBatch }[]): Promise<void> {
    let since: number | null = null;
    await withRetry(() => this.#client.send({ messages }), {
      maxElapsedMs: this.#maxOutageMs,
      retriable: isKafkaOutage,
      firstDelayMs: 250,
      maxDelayMs: 4_000,
      onRetry: (attempt, _delayMs, e) => {
        if (attempt > 1) return;
        since = Date.now();
        this.#onOutage(`Kafka unavailable (${describeKafkaError(e)}); retrying for up to ${Math.round(this.#maxOutageMs / 1000)} s`);
      },
    });
    if (since !== null) this.#onOutage(`Kafka is back after ${((Date.now() - since) / 1000).toFixed(1)} s; sending resumed`);
  }

  #throwIfFailed(): void {
    if (this.#failure !== null) throw this.#failure;
  }
}
