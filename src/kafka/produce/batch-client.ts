import {
  type API,
  type Callback,
  createAPI,
  kGetApi,
  Producer,
  type ProducerOptions,
  produceV3,
  produceV4,
  produceV5,
  produceV6,
  produceV7,
  produceV8,
  produceV9,
  produceV10,
  produceV11,
  type ResponseParser,
  Writer,
} from '@platformatic/kafka';
import type { SealedBatch } from './record-batch.ts';

/** What the client hands the Produce API once it has chosen partitions and a producer id. */
interface RoutedBatch {
  topic: string;
  partition: number;
  value: SealedBatch;
}

interface RequestOptions {
  producerId?: bigint;
  producerEpoch?: number;
  transactionalId?: string | null;
}

const PARSERS: Record<number, ResponseParser<unknown>> = {
  3: produceV3.parseResponse,
  4: produceV4.parseResponse,
  5: produceV5.parseResponse,
  6: produceV6.parseResponse,
  7: produceV7.parseResponse,
  8: produceV8.parseResponse,
  9: produceV9.parseResponse,
  10: produceV10.parseResponse,
  11: produceV11.parseResponse,
};

/**
 * The client's Producer with one thing changed: a message's value is a record batch already
 * encoded (a SealedBatch, one per partition and request) and the Produce request carries it as
 * it is. Everything else is the client's own: connections, SASL/TLS, metadata and leader
 * routing, retries on stale metadata, the idempotent producer id and its recovery.
 *
 * The base sequence of each batch is kept here, per partition, for the producer id the client
 * gives the request: a batch keeps its sequence when the client retries it under the same id
 * (so the broker drops a duplicate), and takes a new one when the client had to start over with
 * a new id. The client counts one message per batch in its own sequences, which are not used.
 */
export class BatchClient extends Producer<Buffer, SealedBatch, Buffer, Buffer> {
  #sequenceOwner = '';
  readonly #sequences = new Map<string, number>();
  readonly #apis = new Map<number, API<unknown[], unknown>>();

  constructor(options: ProducerOptions<Buffer, SealedBatch, Buffer, Buffer>) {
    super({
      ...options,
      // The batch goes through the client untouched: it reaches our request writer below.
      serializers: { value: (batch) => batch as unknown as Buffer },
      partitioner: (message) => message.partition ?? 0,
    });
  }

  override [kGetApi]<RequestArguments extends Array<unknown>, ResponseType>(name: string, callback: Callback<API<RequestArguments, ResponseType>>): void {
    if (name !== 'Produce') {
      super[kGetApi](name, callback);
      return;
    }
    super[kGetApi]<unknown[], unknown>(name, (error, api) => {
      if (error !== null || api === undefined) {
        callback(error);
        return;
      }
      callback(null, this.#produceApi(api.version) as unknown as API<RequestArguments, ResponseType>);
    });
  }

  #produceApi(version: number): API<unknown[], unknown> {
    let api = this.#apis.get(version);
    if (api === undefined) {
      const parse = PARSERS[version];
      if (parse === undefined) throw new Error(`Produce v${version} is not supported by tickflow's batch writer`);
      const flexible = version >= 9;
      api = createAPI<unknown[], unknown>(
        0,
        version,
        (acks: number, timeout: number, batches: RoutedBatch[], options: RequestOptions) => this.#request(flexible, acks, timeout, batches, options),
        parse,
        flexible,
        flexible,
      );
      this.#apis.set(version, api);
    }
    return api;
  }

  /** The Produce request as the client's own writer lays it out, for either encoding. */
  #request(flexible: boolean, acks: number, timeout: number, batches: RoutedBatch[], options: RequestOptions): Writer {
    const byTopic = new Map<string, RoutedBatch[]>();
    for (const b of batches) {
      const list = byTopic.get(b.topic);
      if (list === undefined) byTopic.set(b.topic, [b]);
      else list.push(b);
    }
    const producerId = options.producerId ?? -1n;
    const epoch = options.producerEpoch ?? -1;
    const writer = Writer.create().appendString(options.transactionalId, flexible).appendInt16(acks).appendInt32(timeout);
    writer.appendArray(
      [...byTopic],
      (w, [topic, list]) => {
        w.appendString(topic, flexible);
        const seen = new Set<number>();
        w.appendArray(
          list,
          (w, b) => {
            // Kafka takes one batch per partition and request; the producer never sends two.
            if (seen.has(b.partition)) throw new Error(`two record batches for ${topic}/${b.partition} in one request`);
            seen.add(b.partition);
            const bytes = this.#stamp(b, producerId, epoch);
            w.appendInt32(b.partition);
            if (flexible) w.appendUnsignedVarInt(bytes.length + 1);
            else w.appendInt32(bytes.length);
            w.append(bytes);
          },
          flexible,
          flexible,
        );
      },
      flexible,
      flexible,
    );
    if (flexible) writer.appendTaggedFields();
    return writer;
  }

  #stamp(b: RoutedBatch, producerId: bigint, epoch: number): Buffer {
    const batch = b.value;
    if (producerId < 0n) return batch.encode(-1n, -1, -1);
    const owner = `${producerId}/${epoch}`;
    if (owner !== this.#sequenceOwner) {
      // A new producer id (or epoch) starts every partition's sequence at 0.
      this.#sequenceOwner = owner;
      this.#sequences.clear();
    }
    if (batch.sequenceOwner !== owner) {
      const key = `${b.topic}\n${b.partition}`;
      const first = this.#sequences.get(key) ?? 0;
      batch.sequenceOwner = owner;
      batch.baseSequence = first;
      // Sequences wrap to 0 after 2^31 - 1, as Java's producer counts them.
      this.#sequences.set(key, (first + batch.count) % 2 ** 31);
    }
    return batch.encode(producerId, epoch, batch.baseSequence);
  }
}
