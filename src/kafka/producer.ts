import { compatibilityPartitioner, type CompressionAlgorithmValue, type MessageToProduce, Producer, stringSerializer } from '@platformatic/kafka';
import { withRetry } from '../pipeline/retry.ts';
import { clientOptions, type KafkaSettings } from './config.ts';
import { closeQuietly, ensureReachable } from './connect.ts';
import { describeKafkaError, isKafkaOutage } from './errors.ts';

export type Compression = CompressionAlgorithmValue;
export const COMPRESSIONS: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export interface OutgoingRecord {
  readonly topic: string;
  readonly key?: Buffer | undefined;
  readonly value: Buffer;
  readonly headers?: Readonly<Record<string, Buffer>> | undefined;
}

export interface ProducerOptions {
  compression?: Compression;
  /** A batch goes out when it holds this many records… */
  batchRecords?: number;
  /** …or this many bytes… */
  batchBytes?: number;
  /** …or this long after its first record (Java's linger.ms). */
  lingerMs?: number;
  role?: string;
  /** How long a batch keeps being retried while the broker is away before the producer fails. */
  maxOutageMs?: number;
  /** Told once when an outage starts and once when it ends. */
  onOutage?: (line: string) => void;
}

export interface ProducerStats {
  queued: number;
  acked: number;
  bytes: number;
  requests: number;
}

type Message = MessageToProduce<Buffer, Buffer, string, Buffer>;

/**
 * An idempotent (acks=all) producer that batches records itself. The client sends one
 * produce request per `send` call and, being idempotent, keeps one request in flight per
 * broker; so we hand it large batches and fill the next one while the current is on the wire.
 * `send` resolves once the record is accepted; a full pipeline makes it wait (backpressure).
 * An error from the broker fails the next `send`/`flush`: nothing is dropped silently.
 */
export class BatchingProducer {
  readonly stats: ProducerStats = { queued: 0, acked: 0, bytes: 0, requests: 0 };
  readonly #producer: Producer<Buffer, Buffer, string, Buffer>;
  readonly #compression: Compression;
  readonly #batchRecords: number;
  readonly #batchBytes: number;
  readonly #lingerMs: number;
  readonly #maxOutageMs: number;
  readonly #onOutage: (line: string) => void;
  #batch: Message[] = [];
  #batchSize = 0;
  #linger: NodeJS.Timeout | null = null;
  #inflight: Promise<void> | null = null;
  #failure: unknown = null;

  private constructor(producer: Producer<Buffer, Buffer, string, Buffer>, o: ProducerOptions) {
    this.#producer = producer;
    this.#compression = o.compression ?? 'lz4';
    this.#batchRecords = o.batchRecords ?? 16_384;
    // The broker refuses a partition batch over message.max.bytes (1 MiB by default); staying
    // under it uncompressed keeps every request valid whatever the codec achieves.
    this.#batchBytes = o.batchBytes ?? 900_000;
    this.#lingerMs = o.lingerMs ?? 5;
    this.#maxOutageMs = o.maxOutageMs ?? 300_000;
    this.#onOutage = o.onOutage ?? (() => {});
  }

  /** Connects (bounded by the connect timeout) and registers the idempotent producer id. */
  static async connect(settings: KafkaSettings, o: ProducerOptions = {}): Promise<BatchingProducer> {
    let rr = 0;
    const producer = new Producer<Buffer, Buffer, string, Buffer>({
      ...clientOptions(settings, o.role ?? 'producer'),
      idempotent: true,
      acks: -1,
      compression: o.compression ?? 'lz4',
      serializers: { headerKey: stringSerializer },
      // Keyed records go where Java's producer would put them (murmur2 & 0x7fffffff), so a
      // ticker lands on the same partition whichever client wrote it; keyless ones rotate.
      partitioner: (message, key) => (key !== undefined ? compatibilityPartitioner(message, key) : rr++),
    });
    try {
      await ensureReachable(producer, settings, 'produce');
      await producer.initIdempotentProducer({});
    } catch (e) {
      await closeQuietly(producer);
      throw e;
    }
    const p = new BatchingProducer(producer, o);
    return p;
  }

  async send(r: OutgoingRecord): Promise<void> {
    this.#throwIfFailed();
    const size = recordSize(r);
    // A big record closes the batch before it rather than growing it past the broker's limit
    // (two 600 kB records in one request would be refused together).
    if (this.#batch.length > 0 && this.#batchSize + size > this.#batchBytes) await this.#dispatch();
    const m: Message = { topic: r.topic, value: r.value };
    if (r.key !== undefined) m.key = r.key;
    if (r.headers !== undefined) m.headers = { ...r.headers };
    this.#batch.push(m);
    this.#batchSize += size;
    this.stats.queued++;
    if (this.#batch.length >= this.#batchRecords || this.#batchSize >= this.#batchBytes) {
      await this.#dispatch();
    } else if (this.#linger === null) {
      this.#linger = setTimeout(() => {
        this.#linger = null;
        this.#dispatch().catch(() => {});
      }, this.#lingerMs);
    }
  }

  /** Everything sent so far is acknowledged by the broker when this resolves. */
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
      await closeQuietly(this.#producer);
    }
  }

  /** Abandons unsent records (used on fatal errors). */
  async abort(): Promise<void> {
    if (this.#linger !== null) clearTimeout(this.#linger);
    this.#batch = [];
    await closeQuietly(this.#producer);
  }

  async #dispatch(): Promise<void> {
    if (this.#linger !== null) {
      clearTimeout(this.#linger);
      this.#linger = null;
    }
    // One request on the wire at a time (see the class comment); the caller waits here.
    while (this.#inflight !== null) await this.#inflight;
    this.#throwIfFailed();
    if (this.#batch.length === 0) return;
    const messages = this.#batch;
    const bytes = this.#batchSize;
    this.#batch = [];
    this.#batchSize = 0;
    this.stats.requests++;
    const request = this.#sendRetrying(messages)
      .then(
        () => {
          this.stats.acked += messages.length;
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
   * A batch the broker could not take because it is away (restart, leader election) is sent
   * again with backoff until it is acknowledged or the outage outlasts maxOutageMs. A batch
   * whose acknowledgement was lost may then be stored twice: the records carry their trade_id
   * and the consumer drops the replay (at-least-once into the topic).
   */
  async #sendRetrying(messages: Message[]): Promise<void> {
    let since: number | null = null;
    await withRetry(() => this.#producer.send({ messages, compression: this.#compression }), {
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

/** Bytes a record adds to a produce request, near enough to keep batches under the broker's limit. */
export function recordSize(r: OutgoingRecord): number {
  let n = r.value.length + (r.key?.length ?? 0) + 16;
  if (r.headers !== undefined) for (const [k, v] of Object.entries(r.headers)) n += k.length + v.length + 4;
  return n;
}
