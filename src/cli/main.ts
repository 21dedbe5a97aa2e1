import { Command, CommanderError } from 'commander';
import { DatabaseConfigError } from '../store/open-store.ts';
import { alertsCommand } from './alerts-command.ts';
import { flinkCommand } from './flink-command.ts';
import { produceCommand } from './produce-command.ts';
import { topicsCommand } from './topics-command.ts';
import { queryCommand } from './query-command.ts';
import { runCommand } from './run-command.ts';
import { serveCommand } from './serve-command.ts';
import { simulateCommand } from './simulate-command.ts';
import { specCommand } from './spec-command.ts';
import { stackCommand } from './stack.ts';
import { UsageError } from './usage-error.ts';

const program = new Command('tickflow')
  .description('Real-time stock trade analytics: large-trade and volume-spike alerts, candles and VWAP, every trade stored.')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

for (const cmd of [runCommand(), queryCommand(), simulateCommand(), specCommand(), stackCommand(), serveCommand(), topicsCommand(), produceCommand(), alertsCommand(), flinkCommand()]) {
  program.addCommand(cmd.exitOverride());
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.exitCode = exitCodeFor(e);
}

function exitCodeFor(e: unknown): number {
  if (e instanceof CommanderError) {
    // Help and version are not failures; every other parse problem is a usage error.
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    return 2;
  }
  if (e instanceof UsageError || e instanceof DatabaseConfigError) {
    process.stderr.write(`tickflow: ${e.message}\n`);
    return 2;
  }
  const err = e as Error;
  process.stderr.write(`tickflow: ${err.message ?? String(e)}\n`);
  if (process.env.TICKFLOW_DEBUG) process.stderr.write(`${err.stack}\n`);
  return 1;
}
