import { Command, Option } from 'commander';
import { DEFAULT_DB, openStore } from '../store/open-store.ts';
import { loadConfigFile } from './config-file.ts';
import { listAlerts, listCandles, listCheckpoints, listDeadLetters, listTrades } from '../store/queries.ts';
import { intFlag, tickersFlag } from './parse-flags.ts';
import { renderTable } from './render-table.ts';

const WHAT = { trades: listTrades, alerts: listAlerts, candles: listCandles, 'dead-letters': listDeadLetters, checkpoints: listCheckpoints } as const;

export function queryCommand(): Command {
  return new Command('query')
    .description('show stored trades, alerts, candles or dead letters, newest first; or the Kafka consumer checkpoints')
    .addArgument(
      new Command().createArgument('<what>', 'trades | alerts | candles | dead-letters | checkpoints').choices(Object.keys(WHAT)),
    )
    .addOption(new Option('--ticker <symbol>', 'only this ticker').argParser((v) => tickersFlag(v)[0]!))
    .addOption(new Option('--limit <n>', 'at most n rows').argParser(intFlag('--limit', 1, 100_000)).default(20))
    .addOption(new Option('--db <url>', `database (default ${DEFAULT_DB}; env DATABASE_URL too)`).env('TICKFLOW_DB'))
    .option('--config <file>', 'JSON config file (default ./tickflow.config.json if present): its "db" is used')
    .option('--json', 'one JSON object per line')
    .action(async (what: keyof typeof WHAT, f: { ticker?: string; limit: number; db?: string; config?: string; json?: boolean }) => {
      // The same precedence as run and serve, so a password can live in a config file instead of a flag.
      const file = loadConfigFile(f.config);
      const store = await openStore(f.db ?? process.env.DATABASE_URL ?? file.db ?? DEFAULT_DB);
      try {
        const rows = await WHAT[what](store, { ticker: f.ticker, limit: f.limit });
        if (f.json) process.stdout.write(rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
        else process.stdout.write(`${renderTable(rows)}\n`);
      } finally {
        await store.close();
      }
    });
}
