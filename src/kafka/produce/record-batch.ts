import { compressionsAlgorithms, crc32c } from '@platformatic/kafka';
import type { Compression } from '../producer.ts';

/**
 * Kafka record batches (magic 2) written straight into one growing buffer per partition.
 *
 * @platformatic/kafka encodes each record through a Writer of many small Buffers that it
 * concatenates afterwards, with BigInt arithmetic and a Map of headers per record: ≈ 5 µs of
 * CPU and most of the garbage per 118-byte trade, the bulk of what `tickflow produce` spent.
 * Written here, a record is a few varints and one copy of its value.
 *
 * The bytes are the client's: attributes 0, every record stamped with the time its batch is
 * sealed (timestamp delta 0), no headers, partition leader epoch 0.
 */
export class RecordBatchBuilder {
  #buf: Buffer;
  #len = 0;
  #count = 0;

  constructor(initialBytes = 64 * 1024) {
    this.#buf = Buffer.allocUnsafe(initialBytes);
  }

  get count(): number {
    return this.#count;
  }

  /** Bytes of the records so far, uncompressed. */
  get bytes(): number {
    return this.#len;
  }

  append(key: Buffer | undefined, value: Buffer): void {
    const offsetDelta = this.#count;
    const keyLen = key === undefined ? -1 : key.length;
    // attributes (1) + timestamp delta 0 (1) + offset delta + key + value + header count 0 (1)
    const bodyLen = 3 + varIntSize(offsetDelta) + varIntSize(keyLen) + (key?.length ?? 0) + varIntSize(value.length) + value.length;
    this.#reserve(5 + bodyLen);
    const b = this.#buf;
    let p = writeVarInt(b, this.#len, bodyLen);
    b[p++] = 0;
    b[p++] = 0;
    p = writeVarInt(b, p, offsetDelta);
    p = writeVarInt(b, p, keyLen);
    if (keyLen > 0) p += (key as Buffer).copy(b, p);
    p = writeVarInt(b, p, value.length);
    p += value.copy(b, p);
    b[p++] = 0;
    this.#len = p;
    this.#count++;
  }

  /** The records so far as a batch body (compressed), and a fresh builder state. */
  seal(compression: Compression, timestampMs: number): SealedBatch {
    const records = this.#buf.subarray(0, this.#len);
    const codec = compressionsAlgorithms[compression];
    // 'none' returns its input: copy, since this builder's buffer is reused.
    const body = compression === 'none' ? Buffer.from(records) : (codec.compressSync(records) as Buffer);
    const sealed = new SealedBatch(body, this.#count, codec.bitmask, timestampMs);
    this.#len = 0;
    this.#count = 0;
    return sealed;
  }

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#len + n));
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
  }
}

const HEADER_BYTES = 61;

/**
 * A batch's records, ready to go once the producer id, epoch and base sequence are known: those
 * sit in the header under the CRC, so the header is written when the request is built — again
 * if the idempotent producer had to start over with a new id.
 */
export class SealedBatch {
  readonly body: Buffer;
  readonly count: number;
  readonly attributes: number;
  readonly timestampMs: number;
  /** The producer id and epoch the base sequence below was taken for ('' before the first request). */
  sequenceOwner = '';
  baseSequence = 0;

  constructor(body: Buffer, count: number, attributes: number, timestampMs: number) {
    this.body = body;
    this.count = count;
    this.attributes = attributes;
    this.timestampMs = timestampMs;
  }

  /** The whole batch as the broker reads it. */
  encode(producerId: bigint, producerEpoch: number, baseSequence: number): Buffer {
    const out = Buffer.allocUnsafe(HEADER_BYTES + this.body.length);
    out.writeBigInt64BE(0n, 0); // base offset: the broker assigns it
    out.writeInt32BE(out.length - 12, 8); // length after this field
    out.writeInt32BE(0, 12); // partition leader epoch
    out.writeInt8(2, 16); // magic
    out.writeInt16BE(this.attributes, 21);
    out.writeInt32BE(this.count - 1, 23); // last offset delta
    const ts = BigInt(this.timestampMs);
    out.writeBigInt64BE(ts, 27); // first timestamp
    out.writeBigInt64BE(ts, 35); // max timestamp
    out.writeBigInt64BE(producerId, 43);
    out.writeInt16BE(producerEpoch, 51);
    out.writeInt32BE(baseSequence, 53);
    out.writeInt32BE(this.count, 57);
    this.body.copy(out, HEADER_BYTES);
    out.writeUInt32BE(crc32c(out.subarray(21)), 17);
    return out;
  }
}

function varIntSize(n: number): number {
  let v = ((n << 1) ^ (n >> 31)) >>> 0;
  let size = 1;
  while (v >= 0x80) {
    v >>>= 7;
    size++;
  }
  return size;
}

/** Zig-zag varint (Kafka's record fields) at `p`; returns the position after it. */
function writeVarInt(b: Buffer, p: number, n: number): number {
  let v = ((n << 1) ^ (n >> 31)) >>> 0;
  while (v >= 0x80) {
    b[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  b[p++] = v;
  return p;
}
