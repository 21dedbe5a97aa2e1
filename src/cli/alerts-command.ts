import { randomBytes } from 'node:crypto';
import { Command, Option } from 'commander';
import { Consumer } from '@platformatic/kafka';
import { parseAlertJson, type AlertJson } from '../kafka/alert-json.ts';
import { clientOptions, type KafkaSettings } from '../kafka/config.ts';
import { closeQuietly, ensureReachable } from '../kafka/connect.ts';
import { topicMissing } from '../kafka/errors.ts';
import { kafkaOptions, kafkaSettingsOf } from './kafka-flags.ts';
import { addSettings, specOf } from './options.ts';
import { intFlag } from './parse-flags.ts';
import { formatCount } from './status-line.ts';

interface TailFlags {
  fromBeginning?: boolean;
  json?: boolean;
  count?: number;
  all?: boolean;
}

export function alertsCommand(): Command {
  const tail = new Command('tail')
    .description('follow the alerts topic: one readable line per alert (or the JSON as published)')
    .option('--from-beginning', 'start with the oldest alert still on the topic (default: new alerts only)')
    .option('--json', 'print each alert as its JSON record')
    .addOption(new Option('--count <n>', 'exit after n alerts').argParser(intFlag('--count', 1)))
    .option('--all', 'also print replayed copies (the same alert_id again); hidden by default');
  addSettings(tail, ['config', 'specFile', 'alertsTopic']);
  kafkaOptions(tail);
  tail.action((f: TailFlags) => tailAlerts(f, kafkaSettingsOf(tail), specOf(tail).topics.alerts));
  return new Command('alerts').description('alerts published to Kafka').addCommand(tail);
}

async function tailAlerts(f: TailFlags, settings: KafkaSettings, topic: string): Promise<void> {
  // A private group that never commits: tailing must not move anyone's offsets.
  const consumer = new Consumer({ ...clientOptions(settings, 'alerts-tail'), groupId: `tickflow-tail-${randomBytes(6).toString('hex')}`, autocommit: false });
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await ensureReachable(consumer, settings, 'alerts tail');
    const meta = await consumer.metadata({ topics: [topic], autocreateTopics: false }).catch(() => null);
    if (meta === null || !meta.topics.has(topic)) throw topicMissing(topic);
    const stream = await consumer.consume({
      topics: [topic],
      mode: f.fromBeginning ? 'earliest' : 'latest',
      autocommit: false,
      maxWaitTime: 250,
    });
    stop.signal.addEventListener('abort', () => stream.destroy());
    const seen = new RecentIds(100_000);
    let shown = 0;
    if (!f.json && process.stderr.isTTY) process.stderr.write(`tickflow: following ${topic} (Ctrl-C stops)\n`);
    try {
      for await (const m of stream) {
        const alert = parseAlertJson(m.value);
        if (alert !== null && !f.all && !seen.add(alert.alert_id)) continue;
        const line = f.json || alert === null ? m.value.toString('utf8') : readable(alert);
        if (!process.stdout.write(`${line}\n`)) await new Promise((r) => process.stdout.once('drain', r));
        shown++;
        if (f.count !== undefined && shown >= f.count) break;
      }
    } catch (e) {
      if (!stop.signal.aborted) throw e;
    }
    if (!f.json && process.stderr.isTTY) process.stderr.write(`tickflow: ${formatCount(shown)} alert(s) shown\n`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await closeQuietly(consumer);
  }
}

function readable(a: AlertJson): string {
  const kind = a.kind === 'large_trade' ? 'LARGE' : a.kind === 'volume_spike' ? 'SPIKE' : String(a.kind).toUpperCase();
  const detail =
    a.kind === 'large_trade'
      ? `> ${formatCount(a.threshold ?? 0)}`
      : a.baseline_mean !== undefined
        ? `> ${a.factor}× mean ${a.baseline_mean} of last ${a.lookback}`
        : '';
  return `${a.trade_timestamp}  ${kind.padEnd(5)}  ${a.ticker.padEnd(6)} ${formatCount(a.volume).padStart(13)} @ ${a.price}  ${detail}  ${a.message}  [${a.alert_id}]`;
}

/** A bounded set of recently seen alert ids (insertion-ordered Map as an LRU). */
class RecentIds {
  readonly #ids = new Map<string, true>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** True when the id is new. */
  add(id: string): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.set(id, true);
    if (this.#ids.size > this.#max) this.#ids.delete(this.#ids.keys().next().value!);
    return true;
  }
}
