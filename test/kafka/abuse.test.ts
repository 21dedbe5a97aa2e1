import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Producer } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tickflow } from '../support/cli.ts';
import { freshDatabase, readTables } from '../support/postgres.ts';
import { uniqueName } from '../support/stack.ts';
import { abusiveFeed, HTML_ID, SQL_ID, TEN_MB, writeFeed, type AbusiveLine } from '../abuse/abusive-input.ts';
import { BROKERS, expectedFor, pipelineTopics, readTopic, type Topics } from './kafka-support.ts';

/**
 * The hostile records of test/abuse through Kafka: `tickflow produce --from file:` sends every
 * line it can and reports the one the broker could never take (10 MB) by line number, size and
 * limit; `tickflow run --source kafka` turns each hostile record into a dead letter with its
 * reason (table and DLQ topic) and stores every valid trade exactly.
 */
const dir = mkdtempSync(join(tmpdir(), 'tickflow-kafka-abuse-'));
const file = join(dir, 'abusive.jsonl');
let topics: Topics;
let pg: { url: string; drop: () => Promise<void> };
let lines: Buffer[];
let hostile: Map<number, AbusiveLine>;
let tenMbLine = 0;
/** What the broker receives: every non-blank line but the 10 MB one. */
let sendable: Buffer[];

beforeAll(async () => {
  const feed = abusiveFeed(Date.now() - 6 * 3600_000);
  lines = feed.lines;
  hostile = feed.hostile;
  // Two incompressible 600 kB records back to back on one key: each fits the broker's limit,
  // together they do not — the producer must send them in separate requests.
  const pad = () => randomBytes(450_000).toString('base64');
  const ts = new Date(Date.now() - 5 * 3600_000).toISOString();
  lines.splice(
    600,
    0,
    ...['big-1', 'big-2'].map((id) => Buffer.from(JSON.stringify({ trade_id: id, ticker: 'AAPL', price: '1', volume: 1, trade_timestamp: ts, pad: pad() }))),
  );
  hostile = new Map([...hostile].map(([n, h]) => [n > 600 ? n + 2 : n, h]));
  writeFeed(file, lines);
  tenMbLine = [...hostile].find(([, h]) => h.bytes.length > TEN_MB)![0];
  sendable = lines.filter((l, i) => i + 1 !== tenMbLine && !/^[ \t\r]*$/.test(l.toString('latin1')));
  topics = await pipelineTopics(dir, 'kabuse');
  pg = await freshDatabase('tickflow_kabuse');
});

afterAll(async () => {
  await pg?.drop();
});

describe('hostile records through Kafka', () => {
  it('produce: the 10 MB line is reported (line, size, limit) and not sent; every other line is sent; exit code 1', async () => {
    const r = await tickflow(['produce', '--from', `file:${file}`, '--topic', topics.input, '--json'], { timeoutMs: 180_000 });
    expect(r.code).toBe(1);
    const size = lines[tenMbLine - 1]!.length;
    expect(r.stderr.trim().split('\n')).toEqual([
      `tickflow: file ${file} line ${tenMbLine}: record of ${size} bytes exceeds --max-record-bytes 1000000; not sent`,
      'tickflow: 1 line(s) not sent: larger than 1000000 bytes (see above) [records_not_sent]',
    ]);
    expect(JSON.parse(r.stdout)).toMatchObject({ sent: sendable.length, too_large: 1 });
    const onTopic = await readTopic(topics.input);
    expect(onTopic.map((x) => x.value.toString('base64')).sort()).toEqual(sendable.map((l) => l.toString('base64')).sort());
  });

  it('an empty record and a record without a value (a tombstone), from another producer, reach the topic too', async () => {
    const producer = new Producer({ clientId: 'tickflow-abuse-test', bootstrapBrokers: [BROKERS] });
    try {
      await producer.send({
        messages: [
          { topic: topics.input, value: Buffer.alloc(0), partition: 0 },
          { topic: topics.input, partition: 1 },
        ],
      });
    } finally {
      await producer.close();
    }
    const onTopic = await readTopic(topics.input);
    expect(onTopic.filter((r) => (r.value?.length ?? 0) === 0)).toHaveLength(2);
  });

  it('run --source kafka: each hostile record is a dead letter with its reason (table and DLQ topic); every valid trade stored exactly', async () => {
    const base = expectedFor(sendable, topics);
    // The two empty records: dead letters "record is empty", raw bytes empty.
    const expected = { ...base, rejected: [...base.rejected, 'invalid_json|', 'invalid_json|'].sort() };
    const r = await tickflow(
      ['run', '--source', 'kafka', '--spec', topics.specFile, '--group', uniqueName('g'), '--db', pg.url, '--stop-at-end', '--no-dashboard', '--json'],
      { timeoutMs: 300_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ read: sendable.length + 2, stored: expected.trades.length, dead_letters: expected.rejected.length });
    const actual = await readTables(pg.url);
    expect(actual.trades).toEqual(expected.trades);
    expect(actual.alerts).toEqual(expected.alerts);
    expect(actual.candles).toEqual(expected.candles);
    expect(actual.rejected).toEqual(expected.rejected);
    // Every hostile line that was sent, by its bytes and the code written down for it by hand.
    for (const h of hostile.values()) {
      if (h.fate.kind !== 'dead' || h.bytes.length > TEN_MB) continue;
      expect(actual.rejected, h.name).toContain(`${h.fate.code}|${h.bytes.toString('base64')}`);
    }
    expect(actual.trades!.some((t) => t.startsWith(`${SQL_ID}|`))).toBe(true);
    expect(actual.trades!.some((t) => t.startsWith(`${HTML_ID}|NVDA|`))).toBe(true);
    // The 600 kB records arrived (too large for a trade) and were published to the DLQ whole.
    expect(actual.rejected!.filter((x) => x.startsWith('too_large|')).length).toBe(3);
    const dlq = await readTopic(topics.dlq);
    expect(dlq.length).toBe(expected.rejected.length);
    const big = dlq.filter((d) => d.value.length > 500_000);
    expect(big.map((d) => d.headers['tickflow.reason.code'])).toEqual(['too_large', 'too_large']);
  });
});
