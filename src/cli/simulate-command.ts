import { once } from 'node:events';
import { Command, Option } from 'commander';
import { dirtyFeed } from '../simulate/dirty-feed.ts';
import { SimulatorSource } from '../source/simulator-source.ts';
import { intFlag, numberFlag, rateFlag, tickersFlag, timeFlag } from './parse-flags.ts';

const NEWLINE = new Uint8Array([0x0a]);

interface SimulateFlags {
  count?: number;
  rate?: number | 'max';
  seed?: number;
  tickers?: string[];
  startTime?: number;
  dirty?: boolean;
  late?: number;
  largeFraction?: number;
}

export function simulateCommand(): Command {
  return new Command('simulate')
    .description('write simulated trades as JSONL to stdout (input for run --source file:, produce --from)')
    .addOption(new Option('--count <n>', 'number of lines').argParser(intFlag('--count', 1)).default(1000))
    .addOption(new Option('--rate <n>', 'trades per second at the open and close (a third of it at midday), or "max"').argParser(rateFlag).default('max'))
    .addOption(new Option('--seed <n>', 'seed (same seed, same trades)').argParser(intFlag('--seed', 0, 2 ** 32 - 1)).default(1))
    .addOption(new Option('--tickers <list>', 'comma-separated tickers').argParser(tickersFlag))
    .addOption(new Option('--start-time <iso>', 'event time of the first trade (default now)').argParser(timeFlag('--start-time')))
    .addOption(new Option('--large-fraction <f>', 'share of trades above 1,000,000 shares').argParser(numberFlag('--large-fraction', 0.0001, 0.5)))
    .option('--dirty', 'mix in replays, malformed lines, bounded disorder and the seed\'s "timestamp" alias')
    .addOption(new Option('--late <f>', 'with --dirty: share of late trades').argParser(numberFlag('--late', 0, 0.5)))
    .action(async (f: SimulateFlags) => {
      const startMs = f.startTime ?? Date.now();
      const out = process.stdout;
      const write = async (text: string | Uint8Array): Promise<void> => {
        if (!out.write(text)) await once(out, 'drain');
      };
      const market = { seed: f.seed ?? 1, tickers: f.tickers, largeFraction: f.largeFraction };
      if (f.dirty) {
        for (const line of dirtyFeed({ ...market, count: f.count ?? 1000, startMs, late: f.late })) await write(`${line}\n`);
        return;
      }
      const source = new SimulatorSource({ ...market, rate: f.rate === undefined || f.rate === 'max' ? null : f.rate, count: f.count, startMs });
      for await (const batch of source.batches(new AbortController().signal)) {
        await write(Buffer.concat(batch.flatMap((r) => [r.value as Uint8Array, NEWLINE])));
      }
    });
}
