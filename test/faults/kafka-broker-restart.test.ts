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
import { alertRows, closeOut, dirtyLines, drainAndStop, expectedFor, pipelineTopics, readTopic, writeLines } from '../kafka/kafka-support.ts';
import { TickflowProcess } from '../support/cli.ts';
import { countRows, freshDatabase, readTables } from '../support/postgres.ts';
import { bySize } from '../support/soak.ts';
import { testStackSettings, uniqueName } from '../support/stack.ts';
import { waitFor } from '../support/wait.ts';

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

    const consumer = new TickflowProcess([
      'run',
      '--source',
      'kafka',
      '--no-dashboard',
      '--json',
      '--spec',
      topics.specFile,
      '--group',
      group,
      '--db',
      pg.url,
      '--batch-size',
      '1000',
    ]);
    const producer = new TickflowProcess(['produce', '--from', `file:${file}`, '--topic', topics.input, '--rate', String(Math.round(COUNT / PRODUCE_S))]);
    await waitFor(async () => (await countRows(pg.url, 'stock_trades')) > COUNT / 10, {
      what: 'trades flowing into the database',
      timeoutMs: 120_000,
      context: () => consumer.stderr,
    });

    const settings = testStackSettings();
    await stopComponent(settings, 'kafka');
    await sleep(OUTAGE_MS);
    expect(producer.running, producer.stderr).toBe(true);
    expect(consumer.running, consumer.stderr).toBe(true);
    await stackUp(settings);

    const produced = await producer.done;
    expect(produced.code, produced.stderr).toBe(0);
    // The outage was seen and said, not silently absorbed.
    expect(produced.stderr).toMatch(/Kafka unavailable \(.+\); retrying for up to \d+ s/);
    expect(produced.stderr).toMatch(/Kafka is back after \d+\.\d s/);
    const consumed = await drainAndStop(consumer, group, topics.input);
    expect(consumed.code, consumed.stderr).toBe(0);
    // The stop paused the open windows and pending spike checks in the checkpoint: close them.
    expect((await closeOut(topics.specFile, group, pg.url)).read).toBe(0);

    const actual = await readTables(pg.url);
    expect(actual.trades).toEqual(expected.trades);
    expect(actual.rejected).toEqual(expected.rejected);
    expect(actual.alerts).toEqual(expected.alerts);
    expect(actual.candles).toEqual(expected.candles);
    // On the topic a replay may repeat an alert_id, never lose one.
    expect(alertRows(await readTopic(topics.alerts))).toEqual(expected.alerts);
    console.log(`broker outage — producer:\n${produced.stderr.trim()}\nconsumer:\n${consumed.stderr.trim()}`);
  });
});
