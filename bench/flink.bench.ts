import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { PipelineSpec } from '../src/spec/spec.ts';
import { findJava } from '../src/stack/java.ts';
import { kafkaToolsLog4j } from '../src/stack/config.ts';
import { stackLayout } from '../src/stack/layout.ts';
import { dirtyFeed } from '../src/simulate/dirty-feed.ts';
import type { VertexLoad } from '../src/flink/flink-rest.ts';
import { stopJob, deployForTest, freshSpec, keyedByTicker, migratedDatabase, rest, settings, kafkaBootstrap } from '../test/flink/flink-support.ts';
import { countRows } from '../test/support/postgres.ts';
import { produceLines } from '../test/support/stack.ts';
import type { Bench, BenchRow } from './bench.ts';

/**
 * Flink engine, end to end on the local stack, checkpointing on (5 s):
 *  1. sustained throughput Kafka → Flink → PostgreSQL: a backlog of trades already on the topic,
 *     timed from the job running to the last row in stock_trades;
 *     with each vertex's busy and backpressured time from the REST API, sampled at full speed;
 *  2. alert latency (record produced → alert readable on the alerts topic) at a steady
 *     5,000 trades/s, at-least-once and exactly-once alerts (the cost of Kafka transactions);
 *  3. a scaling table: parallelism 1, 2, 3 on topics of 3 and 6 partitions
 *     (TICKFLOW_BENCH_FLINK_SCALING=1x6,2x6 runs only those cells).
 * TICKFLOW_BENCH_FLINK_PARTS=throughput,latency,scaling picks the parts (all by default).
 * Both figures are taken again, in the same run and on the same input, for the TypeScript engine
 * as a Kafka consumer (`tickflow run --source kafka`), so the table shows the engines side by side.
 */
type EngineName = 'flink' | 'ts consumer';

const MAIN = fileURLToPath(new URL('../bin/tickflow.js', import.meta.url));

type Started = { stop: () => Promise<void>; jobId?: string };

/** Starts the pipeline on `spec`'s topics with either engine; `stop` stops it. */
async function startEngine(engine: EngineName, spec: PipelineSpec, name: string, dbUrl: string, parallelism = 3): Promise<Started> {
  if (engine === 'flink') {
    const jobId = await deployForTest(spec, name, dbUrl, parallelism);
    return { jobId, stop: () => stopJob(jobId, name) };
  }
  const specFile = join(mkdtempSync(join(tmpdir(), 'tickflow-bench-')), 'spec.json');
  writeFileSync(specFile, JSON.stringify(spec));
  const child: ChildProcess = spawn(
    process.execPath,
    [MAIN, 'run', '--source', 'kafka', '--spec', specFile, '--group', name, '--db', dbUrl, '--brokers', kafkaBootstrap, '--no-dashboard', '--json'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return {
    stop: async () => {
      child.kill('SIGINT');
      await new Promise((r) => child.once('close', r));
    },
  };
}
const THROUGHPUT_TRADES = Number(process.env.TICKFLOW_BENCH_FLINK_TRADES ?? 1_000_000);
const SCALING_TRADES = Number(process.env.TICKFLOW_BENCH_FLINK_SCALING_TRADES ?? 500_000);
const LATENCY_RATE = 5_000;
const LATENCY_SECONDS = Number(process.env.TICKFLOW_BENCH_FLINK_SECONDS ?? 30);
const TARGET_TRADES_PER_S = 50_000;

/**
 * The scaling table's cells: parallelism 1-3 on 3 and 6 partitions, or the ones
 * TICKFLOW_BENCH_FLINK_SCALING names as parallelism x partitions ("1x6,2x6").
 */
function scalingCells(): Array<{ parallelism: number; partitions: number }> {
  const named = process.env.TICKFLOW_BENCH_FLINK_SCALING;
  if (named !== undefined && named !== '') {
    return named.split(',').map((cell) => {
      const m = /^(\d+)x(\d+)$/.exec(cell.trim());
      if (m === null) throw new Error(`TICKFLOW_BENCH_FLINK_SCALING: "${cell}" is not parallelism x partitions (e.g. 2x6)`);
      return { parallelism: Number(m[1]), partitions: Number(m[2]) };
    });
  }
  return [3, 6].flatMap((partitions) => [1, 2, 3].map((parallelism) => ({ parallelism, partitions })));
}

/** Vertex names are whole plans; the operator chain in a few words is what a reader needs. */
function shortVertexName(name: string): string {
  const ops = name
    .replace(/\[\d+\]:/g, '')
    .split(/\s*->\s*|\s*:\s+/)
    .map((o) => o.trim().split(/[([]/)[0]!.trim())
    .filter((o) => o !== '');
  return [...new Set(ops)].join(' → ').slice(0, 90);
}

type Throughput = { row: BenchRow; loads: VertexLoad[] };

async function throughput(engine: EngineName, o: { trades: number; partitions: number; parallelism: number }): Promise<Throughput> {
  const { spec, name } = await freshSpec('bench_tp', { input: { partitions: o.partitions } });
  const db = await migratedDatabase('tf_bench_tp');
  let started: Started | undefined;
  let loads: VertexLoad[] = [];
  try {
    const lines = [
      ...dirtyFeed({
        seed: 1,
        count: o.trades,
        startMs: Date.UTC(2026, 10, 25, 14),
        stepMs: 10,
        replays: 0,
        malformed: 0,
        outOfOrder: 0.02,
        largeFraction: 0.01,
      }),
    ];
    await produceLines(spec.input.topic, keyedByTicker(lines), { keyed: true });
    const t0Engine = Date.now();
    started = await startEngine(engine, spec, name, db.url, o.parallelism);
    // Flink is timed from the job running (deploy takes 20-60 s); the consumer from its start.
    const t0 = engine === 'flink' ? Date.now() : t0Engine;
    const deadline = t0 + 900_000;
    let n = 0;
    while (n < lines.length && Date.now() < deadline) {
      await sleep(500);
      n = await countRows(db.url, 'stock_trades');
      // The last sample taken while the backlog still flows: where the time goes at full speed.
      if (started.jobId !== undefined && n < lines.length * 0.9) loads = await rest.vertexLoads(started.jobId).catch(() => loads);
    }
    const s = (Date.now() - t0) / 1000;
    const how =
      engine === 'flink'
        ? `parallelism ${o.parallelism}, ${o.partitions} partitions, checkpoints every 5 s`
        : `one consumer process, ${o.partitions} partitions, checkpoints in each transaction`;
    const row = {
      name: `${engine}: Kafka → PostgreSQL, sustained`,
      value: n / s,
      unit: 'trades/s',
      notes: `${n.toLocaleString('en-US')} trades in ${s.toFixed(1)} s, ${how}`,
    };
    return { row, loads };
  } finally {
    await started?.stop();
    await db.drop();
  }
}

async function kafkaConsole(mainClass: string, args: string[]): Promise<ChildProcessWithoutNullStreams> {
  const java = await findJava();
  const layout = stackLayout(settings.dir);
  return spawn(java.command, ['-Xmx256m', `-Dlog4j2.configurationFile=${kafkaToolsLog4j(layout)}`, '-cp', `${layout.lib.kafka}/*`, mainClass, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

async function alertLatency(engine: EngineName, delivery: 'at-least-once' | 'exactly-once'): Promise<BenchRow[]> {
  const { spec, name } = await freshSpec(`bench_lat_${delivery === 'exactly-once' ? 'eo' : 'al'}`, { delivery: { alerts: delivery } });
  const db = await migratedDatabase('tf_bench_lat');
  let started: Started | undefined;
  const consumer = await kafkaConsole('org.apache.kafka.tools.consumer.ConsoleConsumer', [
    '--bootstrap-server',
    kafkaBootstrap,
    '--topic',
    spec.topics.alerts,
    '--consumer-property',
    'isolation.level=read_committed',
  ]);
  const producer = await kafkaConsole('org.apache.kafka.tools.ConsoleProducer', [
    '--bootstrap-server',
    kafkaBootstrap,
    '--topic',
    spec.input.topic,
    '--property',
    'parse.key=true',
    '--property',
    'key.separator=\t',
    '--producer-property',
    'linger.ms=2',
    '--timeout',
    '2',
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
    started = await startEngine(engine, spec, name, db.url);
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
    const notes = `${n.toLocaleString('en-US')} trades at ${LATENCY_RATE}/s for ${LATENCY_SECONDS} s, ${latencies.length} large-trade alerts`;
    // Exactly-once alerts become visible when the checkpoint that carries them completes.
    const bound = delivery === 'exactly-once' ? spec.delivery.checkpointIntervalMs + 1000 : 1000;
    const p99 = q(0.99);
    return [
      { name: `${engine}: alert latency p50, ${delivery}`, value: q(0.5), unit: 'ms', notes },
      { name: `${engine}: alert latency p99, ${delivery}`, value: p99, unit: 'ms', target: `≤ ${bound} ms`, met: p99 <= bound, notes },
    ];
  } finally {
    producer.kill();
    consumer.kill();
    await started?.stop();
    await db.drop();
  }
}

/** Both engines on the same backlog, one after the other, and where Flink's time went. */
async function sideBySide(main: { trades: number; partitions: number; parallelism: number }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const flink = await throughput('flink', main);
  const ts = await throughput('ts consumer', main);
  rows.push({ ...flink.row, target: `≥ ${TARGET_TRADES_PER_S.toLocaleString('en-US')}/s`, met: flink.row.value >= TARGET_TRADES_PER_S }, ts.row, {
    name: 'flink ÷ ts consumer, sustained',
    value: flink.row.value / ts.row.value,
    unit: '×',
    target: '≥ 1×',
    met: flink.row.value >= ts.row.value,
    notes: 'same input, same run',
  });
  // Where the Flink job spends its time at full speed: 1000 ms/s = one subtask fully busy.
  for (const v of flink.loads) {
    rows.push({
      name: `flink vertex: ${shortVertexName(v.name)}`,
      value: v.busyMsPerS,
      unit: 'busy ms/s',
      notes: `Σ over ${v.parallelism} subtask(s); backpressured ${Math.round(v.backPressuredMsPerS)} ms/s`,
    });
  }
  return rows;
}

export const bench: Bench = {
  name: 'flink',
  needsStack: true,
  async run() {
    const rows: BenchRow[] = [];
    // TICKFLOW_BENCH_FLINK_PARTS=throughput,latency,scaling (all by default) picks what to run.
    const parts = new Set((process.env.TICKFLOW_BENCH_FLINK_PARTS ?? 'throughput,latency,scaling').split(','));
    const main = { trades: THROUGHPUT_TRADES, partitions: 3, parallelism: 3 };
    if (parts.has('throughput')) rows.push(...(await sideBySide(main)));
    if (parts.has('latency')) {
      for (const engine of ['flink', 'ts consumer'] as const) rows.push(...(await alertLatency(engine, 'at-least-once')));
      // The TS consumer has no transactional alerts yet: exactly-once is Flink's alone.
      rows.push(...(await alertLatency('flink', 'exactly-once')));
    }
    if (parts.has('scaling')) {
      for (const { parallelism, partitions } of scalingCells()) {
        const r = await throughput('flink', { trades: SCALING_TRADES, partitions, parallelism });
        rows.push({ ...r.row, name: `flink scaling: parallelism ${parallelism}, ${partitions} partitions` });
      }
    }
    return rows;
  },
};
