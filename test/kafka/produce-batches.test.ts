import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compatibilityPartitioner, Consumer, createRecordsBatch, NumericMap, Producer } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordBatchBuilder } from '../../src/kafka/produce/record-batch.ts';
import type { Compression } from '../../src/kafka/producer.ts';
import { TradeRecordMaker } from '../../src/kafka/trade-record.ts';
import { tickflow } from '../support/cli.ts';
import { createTopic, deleteTopic, uniqueName } from '../support/stack.ts';
import { BROKERS, dirtyLines, readTopic, writeLines } from './kafka-support.ts';

/**
 * `tickflow produce` encodes record batches itself (src/kafka/produce/record-batch.ts) instead
 * of handing records to the client one by one. The batches must be the client's, byte for
 * byte, and what lands on the topic must be what the client put there: same partition, same
 * order, same key and value, the client's timestamp.
 */
describe('record batches written by tickflow', () => {
  const keys = [undefined, Buffer.alloc(0), Buffer.from('AAPL'), Buffer.from('k'.repeat(300))];
  const values = [Buffer.alloc(0), Buffer.from('x'), Buffer.from('{"trade_id":"1","ticker":"AAPL"}'), Buffer.alloc(20_000, 'v')];
  // Over 64 records: offset deltas take two varint bytes.
  const records = Array.from({ length: 150 }, (_, i) => ({ key: keys[i % keys.length], value: values[(i * 7) % values.length]! }));

  for (const compression of ['none', 'lz4', 'gzip', 'snappy', 'zstd'] as Compression[]) {
    it(`equal the client's own encoding (${compression})`, () => {
      const ts = 1_764_000_000_123;
      const builder = new RecordBatchBuilder(16);
      for (const r of records) builder.append(r.key, r.value);
      const ours = builder.seal(compression, ts).encode(4242n, 3, 1_000);
      const sequences = new NumericMap();
      sequences.set('t:0', 1_000);
      const theirs = createRecordsBatch(
        records.map((r) => ({ key: r.key, value: r.value, headers: new Map(), topic: 't', partition: 0, timestamp: BigInt(ts) })),
        { compression, producerId: 4242n, producerEpoch: 3, sequences, partitionLeaderEpoch: 0 },
      ).buffer;
      expect(ours.equals(theirs)).toBe(true);
    });
  }

  it('a builder is empty again after seal and reuses its buffer', () => {
    const builder = new RecordBatchBuilder(16);
    builder.append(Buffer.from('a'), Buffer.from('first'));
    builder.seal('none', 1).encode(1n, 0, 0);
    expect(builder.count).toBe(0);
    builder.append(Buffer.from('b'), Buffer.from('second'));
    const ours = builder.seal('none', 2).encode(1n, 0, 1);
    const sequences = new NumericMap();
    sequences.set('t:0', 1);
    const theirs = createRecordsBatch([{ key: Buffer.from('b'), value: Buffer.from('second'), headers: new Map(), topic: 't', partition: 0, timestamp: 2n }], {
      compression: 'none',
      producerId: 1n,
      producerEpoch: 0,
      sequences,
      partitionLeaderEpoch: 0,
    }).buffer;
    expect(ours.equals(theirs)).toBe(true);
  });
});

describe('tickflow produce on the broker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tickflow-produce-batches-'));
  const file = join(dir, 'dirty.jsonl');
  const ours = uniqueName('produce_ours');
  const reference = uniqueName('produce_ref');
  let lines: Buffer[];

  beforeAll(async () => {
    lines = dirtyLines(20_000, 11);
    writeLines(file, lines);
    // Kafka's defaults (CreateTime), so the record timestamps are the producer's own.
    await createTopic(ours, 3);
    await createTopic(reference, 3);
  });

  afterAll(async () => {
    await deleteTopic(ours).catch(() => {});
    await deleteTopic(reference).catch(() => {});
  });

  it('sends every line as the client did: same partition, order, key and value; stamped with the send time', async () => {
    const before = Date.now();
    // Small requests: many batches per partition, so the idempotent sequences must follow on.
    const r = await tickflow(['produce', '--from', `file:${file}`, '--topic', ours, '--batch-size', '700', '--json']);
    const after = Date.now();
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { sent: number }).sent).toBe(lines.length);

    // The reference: the client's Producer, keyed and partitioned as produce did before.
    const maker = new TradeRecordMaker(reference);
    let rr = 0;
    const producer = new Producer({
      clientId: 'tickflow-test-reference',
      bootstrapBrokers: [BROKERS],
      idempotent: true,
      acks: -1,
      partitioner: (message, key) => (key !== undefined ? compatibilityPartitioner(message, key) : rr++),
    });
    try {
      for (let i = 0; i < lines.length; i += 1_000) {
        await producer.send({ messages: lines.slice(i, i + 1_000).map((l) => maker.make(l)), compression: 'lz4' });
      }
    } finally {
      await producer.close();
    }

    const byPartition = (records: Awaited<ReturnType<typeof readTopic>>) => {
      const out: string[][] = [[], [], []];
      for (const x of [...records].sort((a, b) => Number(a.offset - b.offset))) out[x.partition]!.push(`${x.key}|${x.value.toString('base64')}`);
      return out;
    };
    const got = byPartition(await readTopic(ours));
    expect(got.flat()).toHaveLength(lines.length);
    expect(got).toEqual(byPartition(await readTopic(reference)));

    const stamps = await timestamps(ours, lines.length);
    expect(Math.min(...stamps)).toBeGreaterThanOrEqual(before);
    expect(Math.max(...stamps)).toBeLessThanOrEqual(after);
  });
});

/** The record timestamps of a topic (CreateTime: as the producer set them). */
async function timestamps(topic: string, count: number): Promise<number[]> {
  const consumer = new Consumer({ clientId: 'tickflow-test-timestamps', bootstrapBrokers: [BROKERS], groupId: uniqueName('ts'), autocommit: false });
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 200 });
    const out: number[] = [];
    const deadline = Date.now() + 60_000;
    for await (const m of stream) {
      out.push(Number(m.timestamp));
      if (out.length >= count || Date.now() > deadline) break;
    }
    await stream.close();
    return out;
  } finally {
    await consumer.close(true);
  }
}
