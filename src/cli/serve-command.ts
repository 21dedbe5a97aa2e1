import { Command } from 'commander';
import { AlertsTopicFeed } from '../server/alerts-topic-feed.ts';
import { DatabaseFeed } from '../server/database-feed.ts';
import { rawSetting } from '../config/resolve.ts';
import { openStore } from '../store/open-store.ts';
import { dashboardAccessOf, dashboardOptions, startCliDashboard } from './dashboard-options.ts';
import { kafkaOptions, kafkaSettingsOf } from './kafka-flags.ts';
import { addSettings, layersOf, settingsOf, specOf } from './options.ts';

/**
 * `tickflow serve`: the dashboard and API over a database another process fills (a Flink job,
 * Kafka consumers, an earlier `tickflow run`). The live feed polls the tables; a Kafka
 * alerts-topic feed plugs in through the same LiveFeed interface when it exists.
 */
export function serveCommand(): Command {
  const cmd = new Command('serve').description('serve the dashboard, HTTP API and /metrics over a database filled by Flink, Kafka consumers or a run');
  addSettings(cmd, ['config', 'db', 'specFile', 'alertsTopic']);
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
  cmd.action(async () => {
    // Every setting is checked before anything is opened: an open database keeps the process
    // alive, so a bad flag found after it would print its error and then hang.
    const { db } = settingsOf(cmd, ['db', 'port', 'host', 'token']);
    dashboardAccessOf(cmd);
    const alertsTopic = specOf(cmd).topics.alerts;
    const kafka = rawSetting('brokers', layersOf(cmd)) !== undefined ? kafkaSettingsOf(cmd) : null;
    const store = await openStore(db);
    const log = (line: string): void => void process.stderr.write(`${line}\n`);
    let feed: DatabaseFeed | null = null;
    let topicFeed: AlertsTopicFeed | null = null;
    try {
      feed = await DatabaseFeed.start(store, { alertsFromTable: kafka === null });
      if (kafka !== null) {
        const hub = feed.hub;
        topicFeed = await AlertsTopicFeed.start(kafka, alertsTopic, hub);
      }
      const dashboard = await startCliDashboard(cmd, { db: store, feed, log });
      const alertsFrom = kafka === null ? '' : `, alerts from ${alertsTopic} on ${kafka.brokers.join(',')}`;
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
