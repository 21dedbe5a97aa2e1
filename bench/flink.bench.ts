import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { findJava } from '../src/stack/java.ts';
import { kafkaToolsLog4j } from '../src/stack/config.ts';
import { stackLayout } from '../src/stack/layout.ts';
import { dirtyFeed } from '../src/simulate/dirty-feed.ts';
import { cancelQuietly, countRows, deployForTest, freshSpec, keyedByTicker, migratedDatabase, settings, kafkaBootstrap } from '../test/flink/flink-support.ts';
import { produceLines } from '../test/support/stack.ts';
import type { Bench, BenchRow } from './bench.ts';

/**
 * Flink engine, end to end on the local stack, checkpointing on (5 s):
 *  1. sustained throughput Kafka → Flink → PostgreSQL: a backlog of trades already on the topic,
 *     timed from the job running to the last row in stock_trades;
 *  2. alert latency (record produced → alert readable on the alerts topic) at a steady
 *     5,000 trades/s, at-least-once and exactly-once alerts (the cost of Kafka transactions).
 * The same two figures for `tickflow run --source kafka` come from the Kafka bench; `sideBySide`
 * below is the hook it can call with its own rows so one table shows both engines.
 */
const THROUGHPUT_TRADES = Number(process.env.TICKFLOW_BENCH_FLINK_TRADES ?? 100_000);
const LATENCY_RATE = 5_000;
const LATENCY_SECONDS = Number(process.env.TICKFLOW_BENCH_FLINK_SECONDS ?? 30);

async function throughput(): Promise<BenchRow> {
  const { spec, name } = await freshSpec('bench_tp');
  const db = await migratedDatabase('tf_bench_tp');
  let jobId: string | undefined;
  try {
    const lines = [...dirtyFeed({ seed: 1, count: THROUGHPUT_TRADES, startMs: Date.UTC(2026, 10, 25, 14), stepMs: 10, replays: 0, malformed: 0, outOfOrder: 0.02, largeFraction: 0.01 })];
    await produceLines(spec.input.topic, keyedByTicker(lines), { keyed: true });
    jobId = await deployForTest(spec, name, db.url, 3);
    const t0 = Date.now();
    const deadline = t0 + 600_000;
    let n = 0;
    while (n < lines.length && Date.now() < deadline) {
      await sleep(500);
      n = await countRows(db.url, 'stock_trades');
    }
    const s = (Date.now() - t0) / 1000;
    return { name: 'Kafka → Flink → PostgreSQL, sustained', value: n / s, unit: 'trades/s', notes: `${n.toLocaleString('en-US')} trades in ${s.toFixed(1)} s, parallelism 3, checkpoints every 5 s` };
  } finally {
    await cancelQuietly(jobId);
    await db.drop();
  }
}

async function kafkaConsole(mainClass: string, args: string[]): Promise<ChildProcessWithoutNullStreams> {
  const java = await findJava();
  const layout = stackLayout(settings.dir);
  return spawn(java.command, ['-Xmx256m', `-Dlog4j2.configurationFile=${kafkaToolsLog4j(layout)}`, '-cp', `${layout.lib.kafka}/*`, mainClass, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
}

async function alertLatency(delivery: 'at-least-once' | 'exactly-once'): Promise<BenchRow[]> {
  const { spec, name } = await freshSpec(`bench_lat_${delivery === 'exactly-once' ? 'eo' : 'al'}`, { delivery: { alerts: delivery } });
  const db = await migratedDatabase('tf_bench_lat');
  let jobId: string | undefined;
  const consumer = await kafkaConsole('org.apache.kafka.tools.consumer.ConsoleConsumer', [
    '--bootstrap-server', kafkaBootstrap, '--topic', spec.topics.alerts, '--consumer-property', 'isolation.level=read_committed',
  ]);
  const producer = await kafkaConsole('org.apache.kafka.tools.ConsoleProducer', [
    '--bootstrap-server', kafkaBootstrap, '--topic', spec.input.topic, '--property', 'parse.key=true', '--property', 'key.separator=\t',
    '--producer-property', 'linger.ms=2', '--timeout', '2',
  ]);
  const latencies: number[] = [];
  let buffered = '';
  consumer.stdout.setEncoding('utf8').on('data', (d: string) => {
    const now = Date.now();
    buffered += d;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const line of parts) {
      const m = /"trade_id":"lat-(\d+)-/.exec(line);
      if (m && line.includes('"kind":"large_trade"')) latencies.push(now - Number(m[1]));
    }
  });
  try {
    jobId = await deployForTest(spec, name, db.url, 3);
    await sleep(3_000);
    const tickers = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'META', 'TSLA'];
    let n = 0;
    const t0 = Date.now();
    // Paced in 10 ms steps; every 100th trade is large, so alerts flow at 50/s.
    while (Date.now() - t0 < LATENCY_SECONDS * 1000) {
      const due = Math.floor(((Date.now() - t0) / 1000) * LATENCY_RATE);
      let chunk = '';
      for (; n < due; n++) {
        const now = Date.now();
        const ticker = tickers[n % tickers.length]!;
        const volume = n % 100 === 0 ? 2_000_000 : 100 + (n % 900);
        chunk += `${ticker}\t{"trade_id":"lat-${now}-${n}","ticker":"${ticker}","price":"100.0000","volume":${volume},"trade_timestamp":"${new Date(now).toISOString()}"}\n`;
      }
      if (chunk !== '') producer.stdin.write(chunk);
      await sleep(10);
    }
    producer.stdin.end();
    await sleep(delivery === 'exactly-once' ? 12_000 : 5_000);
    const sorted = latencies.slice(Math.floor(latencies.length * 0.1)).sort((a, b) => a - b); // first 10 %: warm-up
    const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
    const notes = `${n.toLocaleString('en-US')} trades at ${LATENCY_RATE}/s for ${LATENCY_SECONDS} s, ${latencies.length} large-trade alerts, parallelism 3`;
    return [
      { name: `alert latency p50, ${delivery}`, value: q(0.5), unit: 'ms', notes },
      { name: `alert latency p99, ${delivery}`, value: q(0.99), unit: 'ms', notes },
    ];
  } finally {
    producer.kill();
    consumer.kill();
    await cancelQuietly(jobId);
    await db.drop();
  }
}

/** Hook for the Kafka TS engine's bench: put its figures beside these (same names, other engine). */
export function sideBySide(flinkRows: BenchRow[], tsRows: BenchRow[]): BenchRow[] {
  return [...flinkRows.map((r) => ({ ...r, name: `flink: ${r.name}` })), ...tsRows.map((r) => ({ ...r, name: `ts consumer: ${r.name}` }))];
}

export const bench: Bench = {
  name: 'flink',
  needsStack: true,
  async run() {
    const rows: BenchRow[] = [await throughput()];
    rows.push(...(await alertLatency('at-least-once')));
    rows.push(...(await alertLatency('exactly-once')));
    return rows;
  },
};
