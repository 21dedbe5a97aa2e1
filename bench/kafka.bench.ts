/**
 * Kafka figures, on the local stack (`tickflow stack up`):
 *  - producer: `tickflow produce --from file:` trades/s vs Kafka's own Java ProducerPerformance
 *    in the same run, same record size, acks=all, idempotence, lz4, ~same batch bytes;
 *  - consumer engine: `tickflow run --source kafka` trades/s from the topic into PostgreSQL,
 *    and how long it takes to drain a lag of N trades (N = 1,000,000 unless
 *    TICKFLOW_BENCH_KAFKA_N says otherwise).
 * The seed's kafka-python producer sent 1 trade per second (time.sleep(1) per record).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { runKafkaTool } from '../src/stack/kafka-tools.ts';
import { stackSettings } from '../src/stack/settings.ts';
import type { Bench, BenchRow } from './bench.ts';

const MAIN = fileURLToPath(new URL('../bin/tickflow.js', import.meta.url));
const N = Number(process.env.TICKFLOW_BENCH_KAFKA_N ?? 1_000_000);
const BATCH_BYTES = 900_000;

function cli(args: string[], stdoutFile?: string): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    if (stdoutFile !== undefined) {
      import('node:fs').then(({ createWriteStream }) => child.stdout.pipe(createWriteStream(stdoutFile)));
    } else child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0 }));
  });
}

function check(r: { code: number | null; stderr: string }, what: string): void {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
}

async function freshDb(): Promise<{ url: string; drop: () => Promise<void> }> {
  const { default: postgres } = await import('postgres');
  const server = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `tickflow_bench_kafka_${Date.now().toString(36)}`;
  const admin = postgres(server, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const a = postgres(server, { max: 1, onnotice: () => {} });
      await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

export const bench: Bench = {
  name: 'kafka',
  needsStack: true,
  async run(): Promise<BenchRow[]> {
    const settings = stackSettings({}, process.env);
    const brokers = process.env.KAFKA_BROKERS || `${settings.host}:${settings.ports.kafka}`;
    const dir = mkdtempSync(join(tmpdir(), 'tickflow-bench-kafka-'));
    const file = join(dir, 'trades.jsonl');
    const id = Date.now().toString(36);
    const topic = `bench_trades_${id}`;
    const javaTopic = `bench_java_${id}`;
    const rows: BenchRow[] = [];
    const db = await freshDb();
    try {
      for (const [t, extra] of [
        [topic, [`--alerts-topic`, `${topic}.alerts`, '--dlq-topic', `${topic}.dlq`]],
        [javaTopic, ['--alerts-topic', `${javaTopic}.a`, '--dlq-topic', `${javaTopic}.d`]],
      ] as const) {
        check(await cli(['topics', 'create', '--brokers', brokers, '--topic', t, ...extra]), 'topics create');
      }
      // Simulated trades dated in the past, as a replay's would be.
      const start = new Date(Date.now() - 24 * 3600_000).toISOString();
      check(await cli(['simulate', '--count', String(N), '--start-time', start], file), 'simulate');
      const recordSize = Math.round(statSync(file).size / N) - 1;

      // 1. tickflow produce
      const ours = await cli(['produce', '--brokers', brokers, '--from', `file:${file}`, '--topic', topic, '--compression', 'lz4', '--json']);
      check(ours, 'tickflow produce');
      const oursRate = (JSON.parse(ours.stdout) as { trades_per_s: number }).trades_per_s;

      // 2. Kafka's ProducerPerformance, same record size, acks, idempotence, codec, batch bytes.
      const perf = await runKafkaTool(
        settings,
        'ProducerPerformance',
        [
          '--topic',
          javaTopic,
          '--num-records',
          String(N),
          '--record-size',
          String(recordSize),
          '--throughput',
          '-1',
          '--producer-props',
          `bootstrap.servers=${brokers}`,
          'acks=all',
          'enable.idempotence=true',
          'compression.type=lz4',
          `batch.size=${Math.floor(BATCH_BYTES / 3)}`,
          'linger.ms=5',
        ],
        { timeoutMs: 600_000, heap: '512m' },
      );
      const m = /(\d+) records sent, ([\d.]+) records\/sec/.exec(perf.stdout.trim().split('\n').at(-1) ?? '');
      if (perf.code !== 0 || m === null)
        throw new Error(`ProducerPerformance failed: ${(perf.stderr || perf.stdout).trim().split('\n').slice(-3).join(' | ')}`);
      const javaRate = Number(m[2]);
      rows.push({
        name: `producer: tickflow produce (${N.toLocaleString('en-US')} × ${recordSize} B, acks=all, idempotent, lz4)`,
        value: oursRate,
        unit: 'trades/s',
      });
      rows.push({ name: 'producer: Kafka ProducerPerformance (same settings, same run)', value: javaRate, unit: 'records/s' });
      rows.push({
        name: 'producer ratio tickflow / ProducerPerformance',
        value: oursRate / javaRate,
        unit: '×',
        target: 'ratio ≥ 0.5',
        met: oursRate / javaRate >= 0.5,
      });
      rows.push({ name: 'seed: kafka-python producer (time.sleep(1) per trade)', value: 1, unit: 'trades/s', notes: 'on paper' });

      // 3. Consumer engine: drain the N-trade lag into PostgreSQL.
      const spec = join(dir, 'spec.json');
      const { writeFileSync } = await import('node:fs');
      writeFileSync(spec, JSON.stringify({ input: { topic }, topics: { alerts: `${topic}.alerts`, deadLetters: `${topic}.dlq` } }));
      const run = await cli([
        'run',
        '--source',
        'kafka',
        '--brokers',
        brokers,
        '--spec',
        spec,
        '--group',
        `bench_${id}`,
        '--db',
        db.url,
        '--stop-at-end',
        '--no-dashboard',
        '--json',
      ]);
      check(run, 'tickflow run --source kafka');
      const s = JSON.parse(run.stdout) as { read: number; stored: number; elapsed_ms: number; trades_per_s: number };
      rows.push({
        name: 'consumer engine: topic → PostgreSQL with checkpoints (run --source kafka)',
        value: s.trades_per_s,
        unit: 'trades/s',
        target: '≥ 150,000 trades/s',
        met: s.trades_per_s >= 150_000,
        notes: `${s.stored.toLocaleString('en-US')} stored`,
      });
      rows.push({
        name: `consumer lag drain: ${N.toLocaleString('en-US')} trades`,
        value: run.ms / 1000,
        unit: 's',
        notes: 'process start to exit, incl. group join',
      });

      // 4. Checkpoints: their size, and a restart that resumes from them with nothing new to read.
      const sql = postgres(db.url, { max: 1, onnotice: () => {} });
      try {
        const [c] = await sql`SELECT count(*)::int AS n, sum(pg_column_size(state))::int AS bytes FROM tickflow_checkpoints`;
        rows.push({
          name: 'consumer checkpoint: state stored per batch (all partitions, JSONB)',
          value: (c!.bytes as number) / 1024,
          unit: 'KiB',
          notes: `${c!.n as number} rows, rewritten in every transaction`,
        });
      } finally {
        await sql.end();
      }
      const again = await cli([
        'run',
        '--source',
        'kafka',
        '--brokers',
        brokers,
        '--spec',
        spec,
        '--group',
        `bench_${id}`,
        '--db',
        db.url,
        '--stop-at-end',
        '--no-dashboard',
        '--json',
      ]);
      check(again, 'tickflow run --source kafka (restart)');
      const restored = /resuming from checkpoint: .*?(\d+) waiting trades read back, (\d+) ms/.exec(again.stderr);
      rows.push({
        name: 'consumer restart from checkpoint, nothing new to read',
        value: again.ms / 1000,
        unit: 's',
        notes: restored ? `restore ${restored[2]} ms, ${restored[1]} waiting trades read back; process start to exit` : 'no resume line',
      });
    } finally {
      await db.drop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
      for (const t of [topic, javaTopic, `${topic}.alerts`, `${topic}.dlq`, `${javaTopic}.a`, `${javaTopic}.d`]) {
        await runKafkaTool(settings, 'TopicCommand', ['--bootstrap-server', brokers, '--delete', '--if-exists', '--topic', t]).catch(() => {});
      }
    }
    return rows;
  },
};
