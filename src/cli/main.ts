import { Command, CommanderError } from 'commander';
import { resolveSetting } from '../config/resolve.ts';
import { type ErrorCode, isTickflowError } from '../tickflow-error.ts';

/**
 * The exit status of every outcome, in one place (README "Exit codes" lists the same):
 * 0 done · 1 failed while working · 2 something the user fixes before trying again (flags,
 * configuration, a service that is not there) · 3 a status check found something not running ·
 * 130 interrupted twice (run).
 */
const EXIT_STATUS: Record<ErrorCode, 1 | 2 | 3> = {
  bad_flag: 2,
  bad_config: 2,
  bad_input: 2,
  db_unavailable: 2,
  db_in_use: 2,
  db_claim_lost: 1,
  db_batch_failed: 1,
  dashboard_unavailable: 2,
  kafka_unreachable: 2,
  kafka_topic_missing: 2,
  kafka_failed: 1,
  records_not_sent: 1,
  forward_failed: 1,
  forward_in_use: 2,
  flink_unreachable: 2,
  flink_job_running: 2,
  flink_no_job: 2,
  flink_nothing_to_restore: 2,
  flink_rules_changed: 2,
  flink_failed: 1,
  stack_failed: 1,
  not_running: 3,
  internal: 1,
};

// `tickflow simulate | head` closes our stdout early: the reader has what it wanted, so the
// command ends there, quietly and with status 0, instead of failing on a write to the closed pipe.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const program = new Command('tickflow')
  .description('Real-time stock trade analytics: large-trade and volume-spike alerts, candles and VWAP, every trade stored.')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

/**
 * Each command's module, in the order `--help` lists them. Only the command being run is
 * loaded: the Kafka client and the PostgreSQL driver are a quarter of an embedded run's
 * memory, and `tickflow run` on the simulator needs neither. Help, version and anything
 * that is not a command name load them all, so commander can list and suggest.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./run-command.ts')).runCommand(),
  query: async () => (await import('./query-command.ts')).queryCommand(),
  simulate: async () => (await import('./simulate-command.ts')).simulateCommand(),
  spec: async () => (await import('./spec-command.ts')).specCommand(),
  rules: async () => (await import('./rules-command.ts')).rulesCommand(),
  stack: async () => (await import('./stack.ts')).stackCommand(),
  serve: async () => (await import('./serve-command.ts')).serveCommand(),
  topics: async () => (await import('./topics-command.ts')).topicsCommand(),
  produce: async () => (await import('./produce-command.ts')).produceCommand(),
  alerts: async () => (await import('./alerts-command.ts')).alertsCommand(),
  flink: async () => (await import('./flink-command.ts')).flinkCommand(),
  heartbeat: async () => (await import('./heartbeat-command.ts')).heartbeatCommand(),
};
const named = process.argv[2];
const load = named !== undefined && Object.hasOwn(COMMANDS, named) ? [COMMANDS[named]!] : Object.values(COMMANDS);
for (const cmd of await Promise.all(load.map((f) => f()))) program.addCommand(cmd);
// Parse errors anywhere end here (exit 2), not in commander's own process.exit.
const overrideAll = (c: Command): void => {
  c.exitOverride().showHelpAfterError('(run with --help for usage)');
  for (const sub of c.commands) overrideAll(sub);
};
overrideAll(program);
program.addHelpText(
  'after',
  `
Exit codes: 0 done, 1 failed while working, 2 fix the flags, configuration or a missing service
first, 3 status: not running. Every failure prints one line "tickflow: <message> [<code>]".`,
);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.exitCode = report(e);
}

function report(e: unknown): number {
  if (e instanceof CommanderError) {
    // Commander has printed its message; help and version are not failures.
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    return 2;
  }
  if (isTickflowError(e)) {
    process.stderr.write(`tickflow: ${e.message} [${e.code}]\n`);
    for (const line of e.details) process.stderr.write(`  ${line}\n`);
    return EXIT_STATUS[e.code];
  }
  const err = e as Error;
  process.stderr.write(`tickflow: ${err.message ?? String(e)} [internal]\n`);
  let debug = false;
  try {
    debug = resolveSetting('debug', { env: process.env });
  } catch {
    debug = true;
  }
  if (debug) process.stderr.write(`${err.stack}\n`);
  return EXIT_STATUS.internal;
}
