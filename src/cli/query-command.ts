import { Command, Option } from 'commander';
import { openStore } from '../store/open-store.ts';
import { listAlerts, listCandles, listCheckpoints, listDeadLetters, listTrades } from '../store/queries.ts';
import { addSettings, settingsOf } from './options.ts';
import { tickers } from '../config/parsers.ts';
import { flagParser, intFlag } from './parse-flags.ts';
import { renderTable } from './render-table.ts';

const WHAT = { trades: listTrades, alerts: listAlerts, candles: listCandles, 'dead-letters': listDeadLetters, checkpoints: listCheckpoints } as const;

export function queryCommand(): Command {
  const cmd = new Command('query');
  return addSettings(cmd, ['config', 'db'])
    .description('show stored trades, alerts, candles or dead letters, newest first; or the Kafka consumer checkpoints')
    .addArgument(new Command().createArgument('<what>', 'trades | alerts | candles | dead-letters | checkpoints').choices(Object.keys(WHAT)))
    .addOption(new Option('--ticker <symbol>', 'only this ticker').argParser((v) => flagParser('--ticker', tickers)(v)[0]!))
    .addOption(new Option('--limit <n>', 'at most n rows').argParser(intFlag('--limit', 1, 100_000)).default(20))
    .option('--json', 'one JSON object per line')
    .action(async (what: keyof typeof WHAT, f: { ticker?: string; limit: number; json?: boolean }) => {
      const store = await openStore(settingsOf(cmd, ['db']).db);
      try {
        const rows = await WHAT[what](store, { ticker: f.ticker, limit: f.limit });
        if (f.json) process.stdout.write(rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
        else process.stdout.write(`${renderTable(rows)}\n`);
      } finally {
        await store.close();
      }
    });
}
