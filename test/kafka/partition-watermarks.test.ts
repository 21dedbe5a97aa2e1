/**
 * Per-partition watermarks on the TS Kafka consumer (docs/kafka.md#delivery-and-ordering): a
 * partition taken over from a member that died, and a backlog whose partitions differ in
 * event-time density, make no trade late; a finite topic read without --stop-at-end gets its
 * last windows written once every partition is idle.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Producer } from '@platformatic/kafka';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { kafkaSettingsFrom } from '../../src/kafka/config.ts';
import { KafkaSource } from '../../src/kafka/kafka-source.ts';
import { specWith } from '../../src/spec/spec.ts';
import { tickflow, TickflowProcess } from '../support/cli.ts';
import { countRows, freshDatabase, readTables } from '../support/postgres.ts';
import { uniqueName } from '../support/stack.ts';
import { waitFor } from '../support/wait.ts';
import { BROKERS, closeOut, committedTotal, dirtyLines, endOffsetsTotal, expectedFor, pipelineTopics, writeLines } from './kafka-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'tickflow-kafka-wm-'));
const dbs: { drop: () => Promise<void> }[] = [];
const children: TickflowProcess[] = [];

function consumer(args: string[]): TickflowProcess {
  const child = new TickflowProcess(['run', '--source', 'kafka', '--no-dashboard', '--json', ...args]);
  children.push(child);
  return child;
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.running) c.child.kill('SIGKILL');
});

afterAll(async () => {
  for (const d of dbs) await d.drop();
});

/** Trades whose event time runs at `perSecond` a second of wall clock when produced at that rate. */
function steadyLines(count: number, perSecond: number, startMs: number): Buffer[] {
  const tickers = ['AAA', 'BBB', 'CCC', 'DDD', 'EEE', 'FFF', 'GGG', 'HHH'];
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const ts = startMs + Math.floor((i * 1000) / perSecond);
    const volume = 100 + ((i * 7919) % 900);
    out.push(
      Buffer.from(
        JSON.stringify({ trade_id: `s${i}`, ticker: tickers[(i * 5) % 8], price: `${100 + (i % 50)}.25`, volume, trade_timestamp: new Date(ts).toISOString() }),
      ),
    );
  }
  return out;
}

describe('per-partition watermarks on Kafka', () => {
  it('a partition taken over from a member that died: none of its trades is late, every table exact', async () => {
    // Event time runs with the wall clock (500 trades/s produced at 500/s): while the dead
    // member's session times out (10 s), the survivor's own partitions move 10 s of event time
    // past the dead member's checkpoint — twice the out-of-orderness bound.
    const lines = steadyLines(15_000, 500, Date.now() - 3600_000);
    const file = join(dir, 'takeover.jsonl');
    writeLines(file, lines);
    const topics = await pipelineTopics(dir, 'ktakeover', 3);
    const expected = expectedFor(lines, topics);
    expect(expected.candles.length).toBeGreaterThan(0);
    const pg = await freshDatabase('tickflow_ktakeover');
    dbs.push(pg);
    const group = uniqueName('g');
    const member = () => consumer(['--spec', topics.specFile, '--group', group, '--db', pg.url, '--batch-size', '500']);
    const a = member();
    const b = member();
    const producer = new TickflowProcess(['produce', '--from', `file:${file}`, '--topic', topics.input, '--rate', '500']);
    children.push(producer);
    await waitFor(async () => (await countRows(pg.url, 'stock_trades')) >= 3_000, { what: '3,000 trades stored', timeoutMs: 120_000 });
    a.child.kill('SIGKILL');
    expect((await a.done).signal).toBe('SIGKILL');
    expect((await producer.done).code).toBe(0);
    const end = await endOffsetsTotal(topics.input);
    await waitFor(async () => (await committedTotal(group, topics.input)) >= end, { what: `group ${group} to commit all ${end} records`, timeoutMs: 120_000 });
    b.child.kill('SIGINT');
    const rb = await b.done;
    expect(rb.code).toBe(0);
    const summary = JSON.parse(rb.stdout) as { late: number; read: number };
    expect(summary.read).toBeGreaterThan(0);
    expect(summary.late, rb.stderr).toBe(0);
    await closeOut(topics.specFile, group, pg.url);
    const actual = await readTables(pg.url);
    expect(actual.trades).toEqual(expected.trades);
    expect(actual.alerts).toEqual(expected.alerts);
    expect(actual.candles).toEqual(expected.candles);
  });

  it('a backlog whose partitions differ in event-time density, with a small merge buffer: no trade late', async () => {
    // p0: 20,000 trades over 20 s of event time; p1: 20,000 over 2,000 s. Fetches of 512 KiB
    // bring ~4,000 of each; the merge buffer (20 × 100 records) fills with p1's and goes on
    // without p0, carrying p1 hundreds of seconds ahead while p0 still has most of its trades.
    const topic = uniqueName('kskew');
    const r = await tickflow(['topics', 'create', '--topic', topic, '--partitions', '2', '--alerts-topic', `${topic}.alerts`, '--dlq-topic', `${topic}.dlq`]);
    expect(r.code).toBe(0);
    const t0 = Date.UTC(2026, 0, 5, 14, 0, 0);
    const line = (ticker: string, i: number, ts: number) =>
      Buffer.from(JSON.stringify({ trade_id: `${ticker}-${i}`, ticker, price: '10.00', volume: 100, trade_timestamp: new Date(ts).toISOString() }));
    const producer = new Producer({ clientId: 'tickflow-test-skew', bootstrapBrokers: [BROKERS] });
    try {
      for (let i = 0; i < 20_000; i += 1_000) {
        const messages = [];
        for (let j = i; j < i + 1_000; j++) {
          messages.push({ topic, partition: 0, value: line('DENSE', j, t0 + j) });
          messages.push({ topic, partition: 1, value: line('SPARSE', j, t0 + j * 100) });
        }
        await producer.send({ messages });
      }
    } finally {
      await producer.close();
    }
    const spec = specWith({ input: { topic }, candles: { intervalMs: 1_000 }, rules: { volumeSpike: { enabled: false } } });
    const engine = new Engine(spec);
    const source = new KafkaSource({
      settings: kafkaSettingsFrom({ flags: { brokers: BROKERS }, env: {} }),
      topic,
      groupId: uniqueName('g'),
      maxBatchRecords: 100,
      exitAtEnd: true,
    });
    const stop = new AbortController();
    let batches = 0;
    try {
      await source.open();
      for await (const batch of source.batches(stop.signal)) {
        if (batch.length > 0) batches++;
        for (const rec of batch) engine.process(rec);
      }
    } finally {
      await source.close();
    }
    engine.finish();
    const out = engine.drain();
    expect(engine.counters.read).toBe(40_000);
    // At the cap the merge goes on without the dry partition a batch's worth at a time: 400
    // batches of 100 at best (640 measured); one record per arrival made 32,000 of them.
    expect(batches).toBeLessThanOrEqual(800);
    expect(engine.counters.late).toBe(0);
    // 1 s windows: DENSE has 20 of 1,000 trades, SPARSE 2,000 of 10.
    const byTicker = (ticker: string) => out.candles.filter((c) => c.ticker === ticker);
    expect(byTicker('DENSE')).toHaveLength(20);
    expect(byTicker('DENSE').every((c) => c.tradeCount === 1_000)).toBe(true);
    expect(byTicker('SPARSE')).toHaveLength(2_000);
    expect(byTicker('SPARSE').every((c) => c.tradeCount === 10)).toBe(true);
  });

  it('a finite topic read without --stop-at-end: every window, the last ones included, is written once the partitions are idle', async () => {
    const idleMs = 3_000;
    const oooMs = 5_000;
    const intervalMs = 1_000;
    const lines = dirtyLines(12_279, 1212);
    const file = join(dir, 'finite.jsonl');
    writeLines(file, lines);
    const topics = await pipelineTopics(dir, 'kfinite', 3, { input: { idleTimeoutMs: idleMs, outOfOrdernessMs: oooMs }, candles: { intervalMs } });
    const expected = expectedFor(lines, topics);
    const tickers = new Set(expected.candles.map((c) => c.split('|')[0]));
    expect(tickers.size).toBeGreaterThanOrEqual(8);
    expect((await tickflow(['produce', '--from', `file:${file}`, '--topic', topics.input])).code).toBe(0);
    const pg = await freshDatabase('tickflow_kfinite');
    dbs.push(pg);
    const c = consumer(['--spec', topics.specFile, '--group', uniqueName('g'), '--db', pg.url]);
    await waitFor(async () => (await countRows(pg.url, 'stock_trades')) >= expected.trades.length, {
      what: 'every trade stored',
      timeoutMs: 120_000,
      context: () => c.stderr,
    });
    const stored = performance.now();
    // Idle after idleMs; then event time must still cover the bound and the rest of the last
    // window (< intervalMs); 10 s of slack for a busy machine.
    await waitFor(async () => (await countRows(pg.url, 'trade_candles')) >= expected.candles.length, {
      what: `all ${expected.candles.length} candles within idle timeout + out-of-orderness + a window`,
      timeoutMs: idleMs + oooMs + intervalMs + 10_000,
      context: () => c.stderr,
    });
    const tookMs = performance.now() - stored;
    expect(tookMs).toBeGreaterThan(idleMs);
    expect(c.running).toBe(true);
    c.child.kill('SIGINT');
    expect((await c.done).code).toBe(0);
    const actual = await readTables(pg.url);
    expect(actual.trades).toEqual(expected.trades);
    expect(actual.alerts).toEqual(expected.alerts);
    expect(actual.candles).toEqual(expected.candles);
  });
});
