/**
 * A replay of old trades must stay on the topic for its retention counted from when it was
 * written, not from the trades' own dates: a consumer started after the broker's retention
 * check has run reads all of it. Three ways in: `tickflow produce` to a topic `tickflow topics
 * create` made; `tickflow produce` to a topic with Kafka's defaults (made by another tool); and
 * another producer that stamps each record with its trade's time, to a topic tickflow made.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, ConfigResourceTypes, IncrementalAlterConfigOperationTypes, ListOffsetTimestamps, Producer } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirtyFeed } from '../../src/simulate/dirty-feed.ts';
import { parseTradeBytes } from '../../src/trade/parse.ts';
import { specWith } from '../../src/spec/spec.ts';
import { tickflow } from '../support/cli.ts';
import { freshDatabase, readTables } from '../support/postgres.ts';
import { uniqueName } from '../support/stack.ts';
import { waitFor } from '../support/wait.ts';
import { BROKERS, expectedFor, pipelineTopics, writeLines, type Topics } from './kafka-support.ts';

const DAY = 24 * 3600_000;
/** Short enough that anything stamped with the trades' dates (months ago) is past it, long enough for anything written during the test. */
const RETENTION_MS = 3600_000;

const dir = mkdtempSync(join(tmpdir(), 'tickflow-retention-'));
const dbs: { drop: () => Promise<void> }[] = [];
let admin: Admin;

beforeAll(() => {
  admin = new Admin({ clientId: 'tickflow-test-retention', bootstrapBrokers: [BROKERS] });
});

afterAll(async () => {
  await admin.close();
  for (const d of dbs) await d.drop();
});

async function setRetention(topic: string, ms: number): Promise<void> {
  await admin.incrementalAlterConfigs({
    resources: [
      {
        resourceType: ConfigResourceTypes.TOPIC,
        resourceName: topic,
        configs: [{ name: 'retention.ms', configOperation: IncrementalAlterConfigOperationTypes.SET, value: String(ms) }],
      },
    ],
  });
}

async function earliestOffsets(topic: string): Promise<bigint[]> {
  const meta = await admin.metadata({ topics: [topic], forceUpdate: true });
  const count = meta.topics.get(topic)!.partitionsCount;
  const [t] = await admin.listOffsets({
    topics: [{ name: topic, partitions: Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp: ListOffsetTimestamps.EARLIEST })) }],
  });
  return t!.partitions.sort((a, b) => a.partitionIndex - b.partitionIndex).map((p) => p.offset);
}

async function brokerRetentionCheckMs(): Promise<number> {
  const [broker] = await admin.describeConfigs({
    resources: [{ resourceType: ConfigResourceTypes.BROKER, resourceName: '1', configurationKeys: ['log.retention.check.interval.ms'] }],
  });
  return Number(broker?.configs.find((c) => c.name === 'log.retention.check.interval.ms')?.value ?? 300_000);
}

/**
 * Returns once the broker's retention check has gone over every log after this call. A canary
 * topic with Kafka's defaults gets a record stamped months ago; the check deletes it. That
 * pass may not have reached the other logs yet, so a second canary is written and waited for:
 * the pass that deletes it started after the first pass had finished (the check is one
 * scheduled task, never run twice at once).
 */
async function retentionCheckPassed(): Promise<void> {
  const canary = uniqueName('kcanary');
  await admin.createTopics({ topics: [canary], partitions: 1, replicas: 1, configs: [{ name: 'retention.ms', value: String(RETENTION_MS) }] });
  const producer = new Producer({ clientId: 'tickflow-test-canary', bootstrapBrokers: [BROKERS] });
  // Two passes of the broker's interval and some slack: a stack started before its config
  // lowered the interval still gets there, slowly.
  const deadline = Date.now() + 2.5 * (await brokerRetentionCheckMs()) + 60_000;
  try {
    for (const n of [1n, 2n]) {
      await producer.send({ messages: [{ topic: canary, value: Buffer.from(`canary ${n}`), timestamp: BigInt(Date.now() - 90 * DAY) }] });
      await waitFor(async () => (await earliestOffsets(canary))[0]! >= n, {
        what: `the broker's retention check to delete canary ${n} of ${canary}`,
        timeoutMs: Math.max(0, deadline - Date.now()),
        everyMs: 500,
      });
    }
  } finally {
    await producer.close();
  }
}

/** A topic with Kafka's defaults (CreateTime, a week's retention), as a tool other than tickflow would make it. */
async function foreignTopics(prefix: string): Promise<Topics> {
  const input = uniqueName(prefix);
  await admin.createTopics({ topics: [input], partitions: 3, replicas: 1 });
  const t = { input, alerts: `${input}.alerts`, dlq: `${input}.dlq` };
  const full = { input: { topic: t.input }, topics: { alerts: t.alerts, deadLetters: t.dlq } };
  const specFile = join(dir, `${input}.spec.json`);
  writeFileSync(specFile, JSON.stringify(full));
  return { ...t, specFile, spec: specWith(full) };
}

/** What a tool that stamps records with their event time (CreateTime) writes; invalid lines get the previous trade's time. */
async function produceWithEventTimes(topic: string, lines: Buffer[]): Promise<void> {
  const producer = new Producer({ clientId: 'tickflow-test-event-time-producer', bootstrapBrokers: [BROKERS] });
  try {
    let ts = Date.now() - 90 * DAY;
    for (let i = 0; i < lines.length; i += 500) {
      const messages = lines.slice(i, i + 500).map((value) => {
        const r = parseTradeBytes(value);
        if (r.ok === true) ts = r.trade.tsMs;
        return { topic, value, timestamp: BigInt(ts), ...(r.ok === true ? { key: Buffer.from(r.trade.ticker) } : {}) };
      });
      await producer.send({ messages });
    }
  } finally {
    await producer.close();
  }
}

describe('a replay of months-old trades', () => {
  it("survives the broker's retention check, and a consumer started afterwards stores every trade", async () => {
    // Dated three months back, with the feed's replays and malformed lines.
    const lines = [...dirtyFeed({ seed: 1202, count: 6_000, startMs: Date.now() - 90 * DAY, stepMs: 250, largeFraction: 0.02 })].map((l) => Buffer.from(l));
    const file = join(dir, 'old.jsonl');
    writeLines(file, lines);
    const cases = [await pipelineTopics(dir, 'kretain'), await foreignTopics('kretainforeign'), await pipelineTopics(dir, 'kretainother')];
    for (const [i, topics] of cases.entries()) {
      if (i < 2) {
        const p = await tickflow(['produce', '--from', `file:${file}`, '--topic', topics.input, '--rate', 'max']);
        expect(p.code, p.stderr).toBe(0);
      } else {
        await produceWithEventTimes(topics.input, lines);
      }
      await setRetention(topics.input, RETENTION_MS);
    }

    await retentionCheckPassed();

    for (const topics of cases) {
      expect(await earliestOffsets(topics.input), `${topics.input}: records deleted by retention`).toEqual([0n, 0n, 0n]);
      const expected = expectedFor(lines, topics);
      const pg = await freshDatabase('tickflow_kretain');
      dbs.push(pg);
      const r = await tickflow([
        'run',
        '--source',
        'kafka',
        '--spec',
        topics.specFile,
        '--group',
        uniqueName('g'),
        '--db',
        pg.url,
        '--stop-at-end',
        '--no-dashboard',
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ read: lines.length, late: expected.late, duplicates: expected.duplicates });
      const actual = await readTables(pg.url);
      expect(actual.trades).toEqual(expected.trades);
      expect(actual.candles).toEqual(expected.candles);
      expect(actual.alerts).toEqual(expected.alerts);
      expect(actual.rejected).toEqual(expected.rejected);
    }
  }, 900_000);
});
