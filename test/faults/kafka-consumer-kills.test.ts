/**
 * Fault 3: `kill -9` of the tickflow consumer (`run --source kafka`) at random points, several
 * times in a row, while the producer keeps writing. Each transaction stores a batch's rows with
 * the checkpoint that goes with them (next offsets, engine state), so each restart takes the
 * state over and reads on where the last commit ended: every table comes out as from one
 * uninterrupted run — spike alerts and candles included.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/simulate/random.ts';
import { alertRows, committedTotal, dirtyLines, expectedFor, pipelineTopics, readTopic, writeLines } from '../kafka/kafka-support.ts';
import { tickflow, TickflowProcess } from '../support/cli.ts';
import { freshDatabase, readTables } from '../support/postgres.ts';
import { bySize } from '../support/soak.ts';
import { uniqueName } from '../support/stack.ts';
import { waitFor } from '../support/wait.ts';

const COUNT = bySize(40_000, 150_000);
const KILLS = 5;
const dir = mkdtempSync(join(tmpdir(), 'tickflow-kafka-kills-'));
const dbs: { drop: () => Promise<void> }[] = [];

afterAll(async () => {
  for (const d of dbs) await d.drop();
});

describe(`kill -9 of the Kafka consumer, ${KILLS} times in a row, while trades flow`, () => {
  it('ends with exactly the expected trades, alerts (table and topic), candles and dead letters', async () => {
    const lines = dirtyLines(COUNT, 777);
    const file = join(dir, 'kills.jsonl');
    writeLines(file, lines);
    const topics = await pipelineTopics(dir, 'kkills');
    const expected = expectedFor(lines, topics);
    const pg = await freshDatabase('tickflow_kkills');
    dbs.push(pg);
    const group = uniqueName('g');
    const rng = new SeededRandom(31337);

    // A rejoin after a kill waits out the dead member's session (10 s), so production is spread
    // over about as long as the five lives take: every life meets new trades.
    const producer = new TickflowProcess(['produce', '--from', `file:${file}`, '--topic', topics.input, '--rate', String(Math.round(COUNT / bySize(80, 200)))]);
    let committed = 0;
    for (let k = 0; k < KILLS; k++) {
      // Small transactions, so kills land between commits with work on both sides of them.
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
        '500',
      ]);
      // Each life commits something before it dies (else the kills prove nothing), then dies
      // at a random moment: mid-batch, mid-commit, mid-publish.
      await waitFor(
        async () => {
          if (!consumer.running) throw new Error(`consumer exited: ${consumer.stderr}`);
          const now = await committedTotal(group, topics.input);
          return now > committed || (!producer.running && now >= lines.length);
        },
        { what: `life ${k + 1} to commit offsets`, timeoutMs: 120_000 },
      );
      await sleep(rng.next() * 1_500);
      consumer.child.kill('SIGKILL');
      expect((await consumer.done).signal).toBe('SIGKILL');
      committed = await committedTotal(group, topics.input);
    }
    const produced = await producer.done;
    expect(produced.code, produced.stderr).toBe(0);
    expect(committed).toBeLessThan(lines.length);

    const r = await tickflow([
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
      '--stop-at-end',
    ]);
    expect(r.code, r.stderr).toBe(0);
    // The last life resumed from the committed offsets rather than from the beginning.
    expect(JSON.parse(r.stdout).read).toBeLessThanOrEqual(lines.length - committed);

    const actual = await readTables(pg.url);
    expect(actual.trades).toEqual(expected.trades);
    expect(actual.rejected).toEqual(expected.rejected);
    // Spike alerts and candles depend on state that spans the kills (baselines, open windows,
    // trades waiting for the watermark): the checkpoints carry it across.
    expect(actual.alerts).toEqual(expected.alerts);
    expect(actual.candles).toEqual(expected.candles);
    // On the topic a replay may repeat an alert_id, never lose one.
    expect(alertRows(await readTopic(topics.alerts))).toEqual(expected.alerts);
    expect(r.stderr).toMatch(/resuming from checkpoint: /);
  });
});
