import { Command } from 'commander';
import { addSettings, SPEC_OVERRIDE_KEYS, specOf } from './options.ts';

export function specCommand(): Command {
  const cmd = new Command('spec').description('print the effective pipeline spec (defaults, config file and flags applied) as JSON');
  addSettings(cmd, ['config', 'specFile', 'rulesFile', ...SPEC_OVERRIDE_KEYS]);
  cmd.addHelpText(
    'after',
    `
The spec drives both engines (embedded and Flink):
  input.outOfOrdernessMs   watermark = newest event time − this; older trades are late
                           (stored and counted, left out of candles and spike baselines)
  rules                    the alert rules, a list (docs/rules.md; \`tickflow rules check\`
                           puts each in words); by default "large" (volume > 1,000,000, as
                           soon as read) and "spike" (volume > 10 × the mean of the ticker's
                           previous 50 trades, in event-time order); --rules FILE replaces it
  candles.intervalMs       tumbling OHLC + VWAP windows per ticker, emitted when the watermark
                           passes their end
  dedupe.horizonMs         trade_ids remembered this far behind the watermark`,
  );
  cmd.action(() => {
    const spec = specOf(cmd);
    process.stdout.write(`${JSON.stringify(spec, null, 2)}\n`);
  });
  return cmd;
}
