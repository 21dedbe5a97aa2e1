/**
 * Fault 2: the Kafka broker is stopped for 20 s while `tickflow produce` writes and
 * `tickflow run --source kafka` consumes, then started again. Neither process exits; both
 * carry on by themselves once the broker is back, and nothing is lost or stored twice.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { stackUp, stopComponent } from '../../src/stack/stack.ts';
import { alertRows, countTrades, dirtyLines, drainAndStop, expectedFor, pipelineTopics, readTables, readTopic, writeLines } from '../kafka/kafka-support.ts';
import { freshDatabase } from '../support/postgres.ts';
import { bySize } from '../support/soak.ts';
import { testStackSettings, uniqueName } from '../support/stack.ts';
import { startTickflow, waitFor } from './fault-support.ts';

const OUTAGE_MS = 20_000;
const PRODUCE_S = bySize(45, 120);
const COUNT = bySize(30_000, 100_000);
const dir = mkdtempSync(join(tmpdir(), 'tickflow-broker-'));
const dbs: { drop: () => Promise<void> }[] = [];

afterAll(async () => {
  for (const d of dbs) await d.drop();
  // Whatever happened above, the next test file needs its broker.
  await stackUp(testStackSettings());
});


const largeOnly = (rows: string[]) => rows.filter((a) => a.startsWith('large:'));

describe('the Kafka broker stopped for 20 s, then started', () => {
  it('producer and consumer recover by themselves; the database ends exact', async () => {
    const lines = dirtyLines(COUNT, 4711);
    const file = join(dir, 'broker.jsonl');
    writeLines(file, lines);
    const topics = await pipelineTopics(dir, 'kbroker');
    const expected = expectedFor(lines, topics);
    const pg = await freshDatabase('tickflow_kbroker');
    dbs.push(pg);
    const group = uniqueName('g');

    const consumer = startTickflow(['run', '--source', 'kafka', '--no-dashboard', '--json', '--spec', topics.specFile, '--group', group, '--db', pg.url, '--batch-size', '1000']);
    const producer = startTickflow(['produce', '--from', `file:${file}`, '--topic', topics.input, '--rate', String(Math.round(COUNT / PRODUCE_S))]);
    await waitFor('trades flowing into the database', async () => (await countTrades(pg.url)) > COUNT / 10);

    const settings = testStackSettings();
    await stopComponent(settings, 'kafka');
    await sleep(OUTAGE_MS);
    expect(producer.child.exitCode, producer.stderr()).toBeNull();
    expect(consumer.child.exitCode, consumer.stderr()).toBeNull();
    await stackUp(settings);

    const produced = await producer.done;
    expect(produced.code, produced.stderr).toBe(0);
    // The outage was seen and said, not silently absorbed.
    expect(produced.stderr).toMatch(/Kafka unavailable \(.+\); retrying for up to \d+ s/);
    expect(produced.stderr).toMatch(/Kafka is back after \d+\.\d s/);
    const consumed = await drainAndStop(consumer, pg.url, expected.trades.length);
    expect(consumed.code, consumed.stderr).toBe(0);

    const actual = await readTables(pg.url);
    expect(actual.trades).toEqual(expected.trades);
    expect(actual.rejected).toEqual(expected.rejected);
    expect(largeOnly(actual.alerts!)).toEqual(largeOnly(expected.alerts));
    expect(largeOnly(alertRows(await readTopic(topics.alerts)))).toEqual(largeOnly(expected.alerts));
    console.log(`broker outage — producer:\n${produced.stderr.trim()}\nconsumer:\n${consumed.stderr.trim()}`);
  });
});
