import { alertDetailText } from '../alerts/alert-detail-text.ts';
import { randomBytes } from 'node:crypto';
import { Command, Option } from 'commander';
import { Consumer } from '@platformatic/kafka';
import { forwardTopic } from '../alerts/forward/topic-forwarder.ts';
import { RecentIds } from '../alerts/recent-ids.ts';
import { parseAlertJson, type AlertJson } from '../kafka/alert-json.ts';
import { clientOptions, type KafkaSettings } from '../kafka/config.ts';
import { closeQuietly, ensureReachable } from '../kafka/connect.ts';
import { topicMissing } from '../kafka/errors.ts';
import { kafkaOptions, kafkaSettingsOf } from './kafka-flags.ts';
import { TickflowError } from '../tickflow-error.ts';
import { addSettings, settingsOf, specOf } from './options.ts';
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
  return new Command('alerts').description('alerts published to Kafka').addCommand(tail).addCommand(forwardCommand());
}

function forwardCommand(): Command {
  const forward = new Command('forward')
    .description('send each alert on the alerts topic to a webhook or a Slack channel, once, whichever engine published it')
    .option('--from-beginning', 'a group with no stored position starts with the oldest alert on the topic (default: new alerts only)');
  addSettings(forward, ['forwardTo', 'forwardGroup', 'forwardMaxPerMinute', 'forwardMaxOutage', 'config', 'specFile', 'alertsTopic']);
  kafkaOptions(forward);
  forward.addHelpText(
    'after',
    `
Targets:
  webhook:URL   POST of each alert's JSON exactly as published (docs/kafka.md#records), one alert a request
  slack:URL     a Slack incoming webhook: {"text": "..."}, one readable line per alert, up to 10 alerts a message

Delivery: at least once, in topic order. An answer 2xx is delivered. 5xx, 408, 429 (its Retry-After
honoured), a timeout (10 s) or a network error is retried with exponential backoff (0.5 s doubling
to 15 s, jittered) for ever, or until --max-outage (then exit 1, forward_failed). Any other 4xx is a
permanent refusal of that alert: one line on stderr, and the next alert goes on.

Position: the group's committed offsets, committed after each delivered message and before the next.
Ctrl-C / SIGTERM finishes the request in flight, commits and exits 0; a restart goes on after it.
A kill -9 can repeat only the message in flight (1 alert for webhook:, up to 10 for slack:).
A copy of an alert_id already forwarded (an engine republishing after a crash) is dropped: the
last 100,000 ids are remembered, across a restart too (read back from before the position at start).

Rate limit: in each minute (from the first alert sent in it) the first --max-per-minute alerts go out
one by one; the rest are not sent one by one but named in one summary message when the minute ends
(webhook: {"kind":"summary","held_back":n,"counts":[...],"alert_ids":[...],...}; slack: counts per
kind and ticker and the first ids), and stderr says "n alerts held back in the last minute: ...".
Stopped before the minute ends, the held-back alerts are not committed: the next start reads them again.

Examples:
  tickflow alerts forward --to slack:https://hooks.slack.com/services/T000/B000/XXXX
  tickflow alerts forward --to webhook:http://127.0.0.1:8080/alerts --from-beginning --max-per-minute 120
  TICKFLOW_FORWARD_TO=webhook:https://ops.example/hook tickflow alerts forward --group pager --max-outage 600`,
  );
  forward.action(async (f: { fromBeginning?: boolean }) => {
    const s = settingsOf(forward, ['forwardTo', 'forwardGroup', 'forwardMaxPerMinute', 'forwardMaxOutage']);
    if (s.forwardTo === undefined) throw new TickflowError('bad_flag', '--to is required: webhook:URL or slack:URL (or TICKFLOW_FORWARD_TO)');
    const kafka = kafkaSettingsOf(forward);
    const topic = specOf(forward).topics.alerts;
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const stats = await forwardTopic({
        settings: kafka,
        topic,
        groupId: s.forwardGroup,
        fromBeginning: f.fromBeginning === true,
        forward: { target: s.forwardTo, maxPerMinute: s.forwardMaxPerMinute, maxOutageMs: s.forwardMaxOutage },
        log: (line) => process.stderr.write(`tickflow: ${line}\n`),
        signal: stop.signal,
      });
      process.stderr.write(
        `tickflow: forward: stopped; ${formatCount(stats.delivered)} alert(s) delivered one by one, ${formatCount(stats.heldBack)} named in ${formatCount(stats.summaries)} summary message(s), ${formatCount(stats.refused)} refused, ${formatCount(stats.duplicates)} replayed copies skipped\n`,
      );
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });
  return forward;
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
  const kind = a.kind === 'large_trade' ? 'LARGE' : a.kind === 'volume_spike' ? 'SPIKE' : a.kind === 'price_move' ? 'MOVE' : String(a.kind).toUpperCase();
  const detail = alertDetailText(a);
  return `${a.trade_timestamp}  ${kind.padEnd(5)}  ${a.ticker.padEnd(6)} ${formatCount(a.volume).padStart(13)} @ ${a.price}  ${detail}  ${a.message}  [${a.alert_id}]`;
}
