import { Command, Option } from 'commander';
import { DatabaseFeed } from '../server/database-feed.ts';
import { DEFAULT_DB, openStore } from '../store/open-store.ts';
import { loadConfigFile } from './config-file.ts';
import { dashboardOptions, startCliDashboard, type DashboardFlags } from './dashboard-options.ts';
import { UsageError } from './usage-error.ts';

interface ServeFlags extends DashboardFlags {
  db?: string;
  brokers?: string;
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
    .addOption(new Option('--brokers <list>', 'Kafka brokers for the live alerts topic (not in this build yet)').env('KAFKA_BROKERS'))
    .option('--config <file>', 'JSON config file (default ./tickflow.config.json if present)');
  dashboardOptions(cmd);
  cmd.addHelpText(
    'after',
    `
The live feed polls trade_alerts and trade_candles every second; forming candles are shown only
by \`tickflow run\`, which computes them in process.

Examples:
  tickflow serve --db postgres://postgres@127.0.0.1:5432/tickflow
  tickflow serve --db postgres://… --host 0.0.0.0 --token "$(openssl rand -hex 16)"`,
  );
  cmd.action(async (flags: ServeFlags) => {
    if (flags.brokers !== undefined && cmd.getOptionValueSource('brokers') === 'cli') {
      throw new UsageError('--brokers: the Kafka alerts-topic feed is not in this build yet; serve reads alerts from the database');
    }
    const file = loadConfigFile(flags.config);
    const store = await openStore(flags.db ?? process.env.DATABASE_URL ?? file.db ?? DEFAULT_DB);
    const log = (line: string): void => void process.stderr.write(`${line}\n`);
    let feed: DatabaseFeed | null = null;
    try {
      feed = await DatabaseFeed.start(store);
      const dashboard = await startCliDashboard(flags, file, { db: store, feed, log });
      process.stderr.write(`tickflow: dashboard on ${dashboard.url} over ${store.location} (Ctrl-C stops)\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await dashboard.close();
    } finally {
      await feed?.close();
      await store.close();
    }
  });
  return cmd;
}
