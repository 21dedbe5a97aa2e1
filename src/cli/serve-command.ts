import { Command, Option } from 'commander';
import { AlertsTopicFeed } from '../server/alerts-topic-feed.ts';
import { DatabaseFeed } from '../server/database-feed.ts';
import { defaultSpec } from '../spec/spec.ts';
import { DEFAULT_DB, openStore } from '../store/open-store.ts';
import { loadConfigFile } from './config-file.ts';
import { dashboardOptions, startCliDashboard, type DashboardFlags } from './dashboard-options.ts';
import { asUsageErrors, kafkaOptions, resolveKafkaSettings } from './kafka-flags.ts';

interface ServeFlags extends DashboardFlags {
  db?: string;
  brokers?: string;
  connectTimeout?: number;
  alertsTopic?: string;
  config?: string;
}

/**
 * `tickflow serve`: the dashboard and API over a database another process fills (a Flink job,
 * Kafka consumers, an earlier `tickflow run`). The live feed polls the tables; a Kafka
 * alerts-topic feed plugs in through the same LiveFeed interface when it exists.
 */
export function serveCommand(): Command {
  const cmd = new Command('serve')
    .description('serve the dashboard, HTTP API and /metrics over a database filled by Flink, Kafka consumers or a run')
    .addOption(
      new Option('--db <url>', `postgres://user@host:5432/db | pglite:DIR (default ${DEFAULT_DB}; env DATABASE_URL too)`).env('TICKFLOW_DB'),
    )
    .addOption(new Option('--alerts-topic <name>', 'with --brokers: the alerts topic to follow').default(defaultSpec().topics.alerts))
    .option('--config <file>', 'JSON config file (default ./tickflow.config.json if present)');
  kafkaOptions(cmd);
  dashboardOptions(cmd);
  cmd.addHelpText(
    'after',
    `
The live feed polls trade_candles (and, without --brokers, trade_alerts) every second. With
--brokers (or KAFKA_BROKERS) alerts come from the alerts topic the moment they are published.
Forming candles are shown only by \`tickflow run\`, which computes them in process.

Examples:
  tickflow serve --db postgres://postgres@127.0.0.1:5432/tickflow
  tickflow serve --db postgres://postgres@127.0.0.1:5432/tickflow --brokers 127.0.0.1:9092
  tickflow serve --db postgres://… --host 0.0.0.0 --token "$(openssl rand -hex 16)"`,
  );
  cmd.action(async (flags: ServeFlags) => {
    const file = loadConfigFile(flags.config);
    // Every setting is checked before anything is opened: an open database keeps the process
    // alive, so a bad flag found after it would print its error and then hang.
    const kafka = flags.brokers !== undefined || process.env.KAFKA_BROKERS ? resolveKafkaSettings(flags) : null;
    const store = await openStore(flags.db ?? process.env.DATABASE_URL ?? file.db ?? DEFAULT_DB);
    const log = (line: string): void => void process.stderr.write(`${line}\n`);
    let feed: DatabaseFeed | null = null;
    let topicFeed: AlertsTopicFeed | null = null;
    try {
      feed = await DatabaseFeed.start(store, { alertsFromTable: kafka === null });
      if (kafka !== null) {
        const hub = feed.hub;
        topicFeed = await asUsageErrors(() => AlertsTopicFeed.start(kafka, flags.alertsTopic ?? defaultSpec().topics.alerts, hub));
      }
      const dashboard = await startCliDashboard(flags, file, { db: store, feed, log });
      const alertsFrom = kafka === null ? '' : `, alerts from ${flags.alertsTopic} on ${kafka.brokers.join(',')}`;
      // Listening for Ctrl-C before saying "Ctrl-C stops": a script that signals as soon as it
      // reads the line must not hit the default handler, which kills without closing anything.
      const stopped = new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      process.stderr.write(`tickflow: dashboard on ${dashboard.url} over ${store.location}${alertsFrom} (Ctrl-C stops)\n`);
      await stopped;
      await dashboard.close();
    } finally {
      await topicFeed?.close();
      await feed?.close();
      await store.close();
    }
  });
  return cmd;
}
