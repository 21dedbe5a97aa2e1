import { Consumer, Producer } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaSettingsFrom } from '../../src/kafka/config.ts';
import { HeartbeatWriter, heartbeatJson } from '../../src/kafka/heartbeat-writer.ts';
import { parseTradeBytes } from '../../src/trade/parse.ts';
import { isTickflowError } from '../../src/tickflow-error.ts';
import { tickflow } from '../support/cli.ts';
import { createTopic, testStackSettings, uniqueName } from '../support/stack.ts';

/**
 * The heartbeat writer against a real broker, its clock driven by the test: when it writes,
 * to which partition, at what event time, and what it takes for activity.
 */
const s = testStackSettings();
const bootstrap = `${s.host}:${s.ports.kafka}`;
const settings = kafkaSettingsFrom({ flags: { brokers: bootstrap }, env: {} });
const IDLE = 3_000;
/** A replay dated months before the wall clock. */
const T0 = Date.UTC(2026, 5, 1, 15, 59, 50);

let producer: Producer<Buffer, Buffer, Buffer, Buffer>;

beforeAll(() => {
  producer = new Producer({ clientId: 'tickflow-beat-test', bootstrapBrokers: [bootstrap], acks: -1 });
});

afterAll(async () => {
  await producer.close();
});

const trade = (id: string, tsMs: number): Buffer =>
  Buffer.from(JSON.stringify({ trade_id: id, ticker: 'AAPL', price: '187.2300', volume: 100, trade_timestamp: new Date(tsMs).toISOString() }));

async function write(topic: string, partition: number, value: Buffer): Promise<void> {
  await producer.send({ messages: [{ topic, partition, value }] });
}

/** Every heartbeat on the topic so far, in partition and offset order. */
async function heartbeatsOn(topic: string, total: number): Promise<Array<{ partition: number; tsMs: number; keyed: boolean }>> {
  const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
    clientId: 'tickflow-beat-reader',
    bootstrapBrokers: [bootstrap],
    groupId: uniqueName('beat_reader'),
    autocommit: false,
  });
  const seen: Array<{ partition: number; offset: bigint; tsMs: number | null; keyed: boolean }> = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 100 });
    stream.on('data', (m) => {
      const r = parseTradeBytes(m.value);
      seen.push({ partition: m.partition, offset: m.offset, tsMs: r.ok === 'heartbeat' ? r.tsMs : null, keyed: (m.key?.length ?? 0) > 0 });
    });
    const deadline = Date.now() + 30_000;
    while (seen.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  expect(seen.length).toBe(total);
  return seen
    .filter((r) => r.tsMs !== null)
    .sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset))
    .map((r) => ({ partition: r.partition, tsMs: r.tsMs!, keyed: r.keyed }));
}

describe('tickflow heartbeat (src/kafka/heartbeat-writer.ts)', () => {
  it("writes only once every partition is idle, from each partition's own newest event time, and stops on activity", async () => {
    const topic = uniqueName('beat');
    await createTopic(topic, 3);
    // Partitions 0 and 1 have trades (1 out of order: its newest is not its last); 2 is empty.
    await write(topic, 0, trade('a1', T0));
    await write(topic, 0, trade('a2', T0 + 4_000));
    await write(topic, 1, trade('b1', T0 + 7_000));
    await write(topic, 1, trade('b2', T0 + 6_500));
    await write(topic, 1, Buffer.from('not json')); // no event time: skipped, as the engines skip it
    let now = 1_000_000;
    const writer = new HeartbeatWriter({ settings, topic, idleTimeoutMs: IDLE, intervalMs: 1_000, maxRecordBytes: 65_536, now: () => now });
    await writer.open();
    try {
      await writer.tick(); // the writer starts: every partition counts as active now
      now += IDLE - 1;
      await writer.tick();
      expect(writer.written).toBe(0);

      now += 1; // every partition idle for IDLE
      await writer.tick();
      now += 1_000; // its own heartbeats are not activity: it goes on
      await writer.tick();
      expect(await heartbeatsOn(topic, 5 + 4)).toEqual([
        { partition: 0, tsMs: T0 + 4_000 + IDLE, keyed: false },
        { partition: 0, tsMs: T0 + 4_000 + IDLE + 1_000, keyed: false },
        { partition: 1, tsMs: T0 + 7_000 + IDLE, keyed: false },
        { partition: 1, tsMs: T0 + 7_000 + IDLE + 1_000, keyed: false },
      ]);

      // Another writer's heartbeat is not activity either (two writers do not silence each other),
      // and its time is not taken over.
      await write(topic, 0, Buffer.from(heartbeatJson(T0 + 4_000 + IDLE + 1_500)));
      now += 1_000;
      await writer.tick();
      expect(writer.written).toBe(6);

      // A trade on partition 1: activity — nothing is written until all are idle again.
      await write(topic, 1, trade('b3', T0 + 9_000));
      now += 1_000;
      await writer.tick();
      now += IDLE - 1;
      await writer.tick();
      expect(writer.written).toBe(6);

      // Idle again: partition 1 continues from its newest event time, which is now its own last
      // heartbeat (T0 + 12,000) — the later-written but older trade does not pull it back — and
      // the time since the trade; partition 0 from where it was, by the time since the writer started.
      now += 1;
      await writer.tick();
      expect(await heartbeatsOn(topic, 5 + 4 + 1 + 2 + 1 + 2)).toEqual([
        { partition: 0, tsMs: T0 + 4_000 + IDLE, keyed: false },
        { partition: 0, tsMs: T0 + 4_000 + IDLE + 1_000, keyed: false },
        { partition: 0, tsMs: T0 + 4_000 + IDLE + 1_500, keyed: false },
        { partition: 0, tsMs: T0 + 4_000 + IDLE + 2_000, keyed: false },
        { partition: 0, tsMs: T0 + 4_000 + (IDLE + 3_000 + IDLE), keyed: false },
        { partition: 1, tsMs: T0 + 7_000 + IDLE, keyed: false },
        { partition: 1, tsMs: T0 + 7_000 + IDLE + 1_000, keyed: false },
        { partition: 1, tsMs: T0 + 7_000 + IDLE + 2_000, keyed: false },
        { partition: 1, tsMs: T0 + 7_000 + IDLE + 2_000 + IDLE, keyed: false },
      ]);
    } finally {
      await writer.close();
    }
  });

  it('a topic that does not exist is kafka_topic_missing; a bad interval is a usage error', async () => {
    const writer = new HeartbeatWriter({ settings, topic: uniqueName('beat_missing'), idleTimeoutMs: IDLE, intervalMs: 1_000, maxRecordBytes: 65_536 });
    const e = await writer.open().then(
      () => null,
      (err: unknown) => err,
    );
    expect(isTickflowError(e, 'kafka_topic_missing')).toBe(true);

    const r = await tickflow(['heartbeat', '--interval', '0', '--brokers', bootstrap]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--interval/);
  });
});
