import { Command, Option } from 'commander';
import type { RawRecord } from '../engine/records.ts';
import { describeKafkaError } from '../kafka/errors.ts';
import { PartitionedProducer } from '../kafka/produce/partitioned-producer.ts';
import { COMPRESSIONS, type Compression } from '../kafka/producer.ts';
import { TradeRecordMaker } from '../kafka/trade-record.ts';
import { FileSource, MAX_LINE_BYTES, unreadableInput } from '../source/file-source.ts';
import { SimulatorSource } from '../source/simulator-source.ts';
import type { Source } from '../source/source.ts';
import type { KafkaSettings } from '../kafka/config.ts';
import { isTickflowError, TickflowError } from '../tickflow-error.ts';
import { kafkaOptions, kafkaSettingsOf } from './kafka-flags.ts';
import { addSettings, specOf } from './options.ts';
import { intFlag, rateFlag, secondsFlag, tickersFlag, timeFlag } from './parse-flags.ts';
import { ProgressLine } from './progress-line.ts';
import { formatCount } from './status-line.ts';

interface ProduceFlags {
  from?: string;
  rate?: number | 'max';
  count?: number;
  duration?: number;
  seed?: number;
  tickers?: string[];
  startTime?: number;
  compression: Compression;
  batchSize: number;
  linger: number;
  maxRecordBytes: number;
  json?: boolean;
}

/**
 * The broker refuses a record batch over message.max.bytes (1,048,588 bytes by default); a
 * record must stay under it with the batch's own overhead.
 */
export const DEFAULT_MAX_RECORD_BYTES = 1_000_000;

export interface ProduceSummary {
  topic: string;
  sent: number;
  /** Lines not sent because they exceed --max-record-bytes (each reported on stderr). */
  too_large: number;
  bytes: number;
  elapsed_ms: number;
  trades_per_s: number;
  mb_per_s: number;
}

export function produceCommand(): Command {
  const cmd = new Command('produce')
    .description('send trades to a Kafka topic: the market simulator, or a JSONL file (key = ticker, idempotent, acks=all)')
    .addOption(new Option('--from <source>', 'sim (simulator) | file:PATH (JSONL, "file:-" for stdin), sent byte for byte').default('sim'));
  // The topic is the pipeline's input topic, resolved like run's: --topic, --spec, --config.
  addSettings(cmd, ['config', 'specFile', 'topic']);
  cmd
    .addOption(new Option('--rate <n>', 'records per second, or "max" (default: 1000 for sim, max for a file)').argParser(rateFlag))
    .addOption(new Option('--count <n>', 'stop after n records').argParser(intFlag('--count', 1)))
    .addOption(new Option('--duration <seconds>', 'stop after this long').argParser(secondsFlag('--duration')))
    .addOption(new Option('--seed <n>', 'simulator seed').argParser(intFlag('--seed', 0, 2 ** 32 - 1)))
    .addOption(new Option('--tickers <list>', 'simulator tickers, comma-separated').argParser(tickersFlag))
    .addOption(new Option('--start-time <iso>', 'simulator: event time of the first trade at --rate max (default now)').argParser(timeFlag('--start-time')))
    .addOption(new Option('--compression <codec>', 'batch compression').choices(COMPRESSIONS).default('lz4'))
    .addOption(new Option('--batch-size <n>', 'records per produce request at most').argParser(intFlag('--batch-size', 1, 1_000_000)).default(16_384))
    .addOption(new Option('--linger <ms>', 'wait this long to fill a batch').argParser(intFlag('--linger', 0, 60_000)).default(5))
    .addOption(
      new Option('--max-record-bytes <n>', "a larger line is reported and not sent (keep it under the broker's message.max.bytes)")
        .argParser(intFlag('--max-record-bytes', 1, 100 * 1024 * 1024))
        .default(DEFAULT_MAX_RECORD_BYTES),
    )
    .option('--json', 'print the final summary as one JSON object');
  kafkaOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  tickflow produce                                   simulator at 1000 trades/s until Ctrl-C
  tickflow produce --rate max --count 1000000        a million simulated trades, as fast as the broker takes them
  tickflow simulate --dirty --count 10000 > d.jsonl && tickflow produce --from file:d.jsonl
  tickflow produce --topic sensors --rate 1          the seed's topic and pace

Records carry the ticker as key and the time they are sent as timestamp (the trade's time
stays in the JSON, so retention counts from the replay, not from the trades' dates); lines
that are not valid trades are sent unchanged (the consumer routes them to the dead-letter
topic). A line larger than --max-record-bytes cannot be sent at all: it is reported on stderr
(line number, size, limit), every other line is still sent, and the exit code is 1.`,
  );
  cmd.action(async (f: ProduceFlags) => {
    const summary = await produce(f, kafkaSettingsOf(cmd), specOf(cmd).input.topic);
    if (f.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      process.stdout.write(
        `produced ${formatCount(summary.sent)} records to ${summary.topic} in ${(summary.elapsed_ms / 1000).toFixed(1)} s ` +
          `(${formatCount(summary.trades_per_s)} records/s, ${summary.mb_per_s.toFixed(1)} MB/s)\n`,
      );
    }
    if (summary.too_large > 0) {
      // Everything else went out, but the input did not: a script must notice.
      throw new TickflowError('records_not_sent', `${formatCount(summary.too_large)} line(s) not sent: larger than ${f.maxRecordBytes} bytes (see above)`);
    }
  });
  return cmd;
}

function buildSource(f: ProduceFlags): { source: Source; rate: number | null } {
  if (f.from === 'sim' || f.from === undefined) {
    const rate = f.rate ?? 1000;
    const startMs = f.startTime;
    // The simulator paces itself; the producer must not pace it again.
    return {
      source: new SimulatorSource({
        seed: f.seed ?? Date.now() >>> 0,
        tickers: f.tickers,
        rate: rate === 'max' ? null : rate,
        count: f.count,
        durationMs: f.duration,
        startMs,
      }),
      rate: null,
    };
  }
  if (f.from.startsWith('file:')) {
    const path = f.from.slice('file:'.length);
    if (path.length === 0) throw new TickflowError('bad_flag', '--from: file: needs a path, e.g. file:trades.jsonl (or file:- for stdin)');
    const problem = unreadableInput(path);
    if (problem !== null) throw new TickflowError('bad_input', `--from: cannot read ${problem}`);
    return { source: new FileSource(path), rate: f.rate === undefined || f.rate === 'max' ? null : f.rate };
  }
  throw new TickflowError('bad_flag', `--from: "${f.from}" is not a source; use sim or file:PATH`);
}

async function produce(f: ProduceFlags, settings: KafkaSettings, topic: string): Promise<ProduceSummary> {
  const { source, rate } = buildSource(f);
  const producer = await PartitionedProducer.connect(settings, {
    topic,
    compression: f.compression,
    batchRecords: f.batchSize,
    lingerMs: f.linger,
    onOutage: (line) => process.stderr.write(`\ntickflow: ${line}\n`),
  }).catch((e: unknown) => {
    // The partition count is read while connecting; a missing topic is reported as when the
    // first send found it missing.
    throw isTickflowError(e) ? e : failedAfter(topic, 0, e);
  });
  const maker = new TradeRecordMaker(topic);
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const limit = f.count ?? Number.POSITIVE_INFINITY;
  const deadline = f.duration === undefined ? Number.POSITIVE_INFINITY : performance.now() + f.duration;
  const started = performance.now();
  const progress = new ProgressLine(() => producer.stats.acked, f.count ?? null);
  let sent = 0;
  let tooLarge = 0;
  let failed = true;
  try {
    outer: for await (const batch of source.batches(abort.signal)) {
      for (const r of batch as RawRecord[]) {
        if (sent >= limit || abort.signal.aborted || (deadline !== Number.POSITIVE_INFINITY && performance.now() >= deadline)) break outer;
        if (rate !== null) await pace(sent, rate, started, abort.signal);
        const v = r.value;
        const value = typeof v === 'string' ? Buffer.from(v) : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
        if (value.length > f.maxRecordBytes) {
          // Sent, it would fail its whole batch; skipped, it costs only itself.
          tooLarge++;
          const size = value.length > MAX_LINE_BYTES ? `more than ${MAX_LINE_BYTES}` : String(value.length);
          process.stderr.write(
            `tickflow: ${source.description} line ${r.offset}: record of ${size} bytes exceeds --max-record-bytes ${f.maxRecordBytes}; not sent\n`,
          );
          continue;
        }
        const record = maker.make(value);
        const full = producer.add(record.key, record.value);
        if (full !== undefined) await full;
        sent++;
      }
      if (performance.now() >= deadline) break;
    }
    await producer.flush();
    failed = false;
  } catch (e) {
    throw failedAfter(topic, producer.stats.acked, e);
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (failed) await producer.abort();
    else await producer.close();
  }
  const elapsed = performance.now() - started;
  return {
    topic,
    sent: producer.stats.acked,
    too_large: tooLarge,
    bytes: producer.stats.bytes,
    elapsed_ms: Math.round(elapsed),
    trades_per_s: elapsed > 0 ? Math.round((producer.stats.acked / elapsed) * 1000) : 0,
    mb_per_s: elapsed > 0 ? producer.stats.bytes / 1e6 / (elapsed / 1000) : 0,
  };
}

function failedAfter(topic: string, acked: number, e: unknown): TickflowError {
  return new TickflowError('kafka_failed', `produce to ${topic} failed after ${formatCount(acked)} acknowledged records: ${describeKafkaError(e)}`);
}

/** Waits until record number `n` is due at `rate` per second. */
async function pace(n: number, rate: number, started: number, signal: AbortSignal): Promise<void> {
  const due = started + (n / rate) * 1000;
  const wait = due - performance.now();
  if (wait > 1 && !signal.aborted) await new Promise((r) => setTimeout(r, Math.min(wait, 1000)));
}
