import { Command, Option } from 'commander';
import { RunForwarder, type RunForwardSummary } from '../alerts/forward/run-forwarder.ts';
import { Engine } from '../engine/engine.ts';
import { DEFAULT_BATCH_TRADES, PipelineRun, type RunSummary } from '../pipeline/run-pipeline.ts';
import type { KafkaPipeline } from '../kafka/kafka-pipeline.ts';
import type { RunParticipant } from '../pipeline/participant.ts';
import { FileSource, unreadableInput } from '../source/file-source.ts';
import { SimulatorSource } from '../source/simulator-source.ts';
import type { Source } from '../source/source.ts';
import { openStore, parseDbTarget } from '../store/open-store.ts';
import { PipelineFeed } from '../server/pipeline-feed.ts';
import type { PipelineSpec } from '../spec/spec.ts';
import { TickflowError } from '../tickflow-error.ts';
import { dashboardAccessOf, dashboardOptions, startCliDashboard } from './dashboard-options.ts';
import { kafkaOptions, kafkaSettingsOf } from './kafka-flags.ts';
import { addSettings, SPEC_OVERRIDE_KEYS, settingsOf, specOf } from './options.ts';
import { intFlag, secondsFlag, timeFlag } from './parse-flags.ts';
import { StatusLine, formatCount } from './status-line.ts';

/** Flags of one invocation; settings (source, db, rate, …) are resolved by settingsOf. */
interface RunFlags {
  count?: number;
  duration?: number;
  startTime?: number;
  batchSize: number;
  dashboard: boolean;
  json?: boolean;
  stopAtEnd?: boolean;
}

export function runCommand(): Command {
  const cmd = new Command('run').description('run the pipeline: source → embedded engine → database (PGlite by default)');
  addSettings(cmd, ['config', 'source', 'db', 'rate', 'seed', 'tickers', 'group']);
  cmd
    .addOption(new Option('--count <n>', 'stop the simulator after n trades').argParser(intFlag('--count', 1)))
    .addOption(new Option('--duration <seconds>', 'stop the simulator after this long').argParser(secondsFlag('--duration')))
    .addOption(new Option('--start-time <iso>', 'event time of the first simulated trade at --rate max (default now)').argParser(timeFlag('--start-time')))
    .addOption(
      new Option('--batch-size <n>', 'trades per database transaction (the first ones start at 2,500 and double up to it)')
        .argParser(intFlag('--batch-size', 1, 1_000_000))
        .default(DEFAULT_BATCH_TRADES),
    )
    .option('--no-dashboard', 'do not serve the web dashboard')
    .option('--json', 'print the final summary as one JSON object')
    .option(
      '--stop-at-end',
      'with --source kafka: stop once caught up with the end the topic had at start, and close every open window (the topic is read as a finite input)',
    );
  addSettings(cmd, ['runForward', 'forwardMaxPerMinute', 'forwardMaxOutage']);
  kafkaOptions(cmd);
  addSettings(cmd, ['specFile', 'rulesFile', ...SPEC_OVERRIDE_KEYS]);
  dashboardOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  tickflow run                                   simulator at 1000/s into ./.tickflow (Ctrl-C stops)
  tickflow run --source file:trades.jsonl --json replay a file, print a JSON summary, exit
  tickflow run --rate max --count 1000000        a million trades as fast as possible
  tickflow run --db postgres://postgres@127.0.0.1:5432/tickflow
  tickflow run --forward slack:https://hooks.slack.com/services/T000/B000/XXXX
  tickflow run --source file:trades.jsonl --forward webhook:http://127.0.0.1:8080/alerts --max-per-minute 120

With --source kafka, every stored batch carries a checkpoint (table tickflow_checkpoints): a
consumer restarted after a crash or a stop goes on from its group's state exactly — open candles,
spike baselines, offsets. Ctrl-C pauses; --stop-at-end ends the input.

--forward sends each alert the run stores to a webhook (its JSON, as \`alerts forward\` posts it) or
Slack, at least once, in order, without Kafka — as \`tickflow alerts forward\` does from the alerts
topic: retries with backoff, --max-per-minute with one summary a minute for the rest, --max-outage.
Each alert is queued in the database (table tickflow_forwarding) by the transaction that stores it,
and marked sent once the endpoint took it: a slow or dead endpoint never holds the pipeline up (up to
1,000 alerts wait in memory, the rest in the database), and a restart after a crash or a kill -9 on
the same database sends what was stored but not taken — only a message in flight at a kill -9 can go
out twice — and never an alert_id that target already took. At the end of a finite input the run
keeps sending for up to ${FORWARD_DRAIN_MS / 1000} s, then says how many alerts are still to send: the next run with the same
--forward sends them first. Ctrl-C stops after the message in flight. One process per target and
database (with --source kafka and several consumers, use \`tickflow alerts forward\` instead).

Precedence: flags > environment (TICKFLOW_*, DATABASE_URL) > config file > defaults.
Exit codes: 0 done, 1 failed while running, 2 bad flags or configuration, 130 Ctrl-C twice.`,
  );
  cmd.action(async (flags: RunFlags) => {
    const summary = await runPipeline(flags, cmd);
    if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else process.stdout.write(`${humanSummary(summary)}\n`);
  });
  return cmd;
}

/** How long the end of a finite run waits for the endpoint to take what is left. */
const FORWARD_DRAIN_MS = 10_000;

type RunResult = RunSummary & { forward?: RunForwardSummary };

async function runPipeline(flags: RunFlags, cmd: Command): Promise<RunResult> {
  const s = settingsOf(cmd, ['source', 'db', 'rate', 'seed', 'tickers', 'group', 'runForward', 'forwardMaxPerMinute', 'forwardMaxOutage']);
  const spec = specOf(cmd);
  if (flags.dashboard) dashboardAccessOf(cmd);
  const log = flags.json ? () => {} : (line: string) => void process.stderr.write(`${line}\n`);
  // Torn down in reverse order of what was opened: dashboard, feed, Kafka, then the database.
  await using scope = new AsyncDisposableStack();
  const kafka = s.source === 'kafka' ? scope.use(await openKafka(cmd, flags, spec, s.group)) : null;
  const source: Source = kafka?.source ?? buildSource(flags, s);
  // A paced run (the simulator at a set rate, as npm start runs it) is idle most of the time:
  // it is tuned for footprint, a run at full speed for speed: an embedded database on a thread
  // of its own and with larger buffers, which would only add to a paced run's footprint
  // (src/store/pglite-open.ts), and V8 flags (restartWithEmbeddedFlags).
  const pacedRate = s.source === 'sim' && s.rate !== 'max' ? s.rate : null;
  const paced = pacedRate !== null;
  if (kafka === null) restartWithEmbeddedFlags(s.db, pacedRate);
  const store = await openStore(s.db, { pglite: paced ? 'footprint' : 'speed' });
  scope.defer(() => store.close());
  const engine = kafka?.engine ?? new Engine(spec, { idsWithin: source.idsWithin?.bind(source) });
  // The dashboard's live feed: the engine's forming candles, and what each commit stored.
  const live = flags.dashboard ? scope.use(new PipelineFeed(engine)) : null;
  const dashboard = live && (await startCliDashboard(cmd, { db: store, feed: live, log }));
  if (dashboard) scope.defer(() => dashboard.close());
  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write(
      kafka
        ? '\ntickflow: stopping — storing what was read with a checkpoint; open candles and pending spike checks go on at the next start (Ctrl-C again to quit at once)\n'
        : '\ntickflow: stopping — flushing what was read (Ctrl-C again to quit at once)\n',
    );
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  scope.defer(() => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
  let forwardFailure: unknown = null;
  const forward =
    s.runForward === undefined
      ? null
      : scope.use(
          await RunForwarder.open(store, {
            target: s.runForward,
            maxPerMinute: s.forwardMaxPerMinute,
            maxOutageMs: s.forwardMaxOutage,
            log: (line) => process.stderr.write(`tickflow: ${line}\n`),
            onFailed: (e) => {
              forwardFailure ??= e;
              process.stderr.write('tickflow: forward: the endpoint failed for longer than --max-outage; stopping the run — what was read is stored\n');
              abort.abort();
            },
          }),
        );
  if (forward !== null && forward.backlog > 0)
    process.stderr.write(`tickflow: forward: ${formatCount(forward.backlog)} alert(s) stored by an earlier run and not delivered yet go out first\n`);
  const outage: RunParticipant = {
    onWriteRetry: (attempt, delay, e) => process.stderr.write(`tickflow: database unavailable (${(e as Error).message}); retry ${attempt} in ${delay} ms\n`),
    onWriteRecovered: (ms) => process.stderr.write(`tickflow: database available again after ${(ms / 1000).toFixed(1)} s\n`),
  };
  const run = new PipelineRun({
    source,
    engine,
    store,
    maxBatchTrades: flags.batchSize,
    signal: abort.signal,
    // A checkpointed stream is paused by a stop, not ended: the next run goes on from its state.
    finishOnStop: kafka === null,
    participants: [...(kafka?.participants ?? []), ...(live ? [live] : []), ...(forward ? [forward] : []), outage],
  });
  if (!flags.json) process.stderr.write(`tickflow: ${source.description} → ${store.location}\n`);
  if (dashboard && !flags.json)
    process.stderr.write(`tickflow: dashboard on ${dashboard.url}${settingsOf(cmd, ['token']).token ? ' (open it once as /?token=<token>)' : ''}\n`);
  const status = flags.json ? null : new StatusLine(() => ({ summary: run.summary(), watermarkMs: engine.watermarkMs }));
  if (status) scope.defer(() => status.stop());
  const summary: RunResult = await run.run();
  status?.stop();
  if (forward !== null) {
    // A finite input that ended is worth a short wait for the endpoint; a stop is not.
    const drainMs = abort.signal.aborted ? 0 : FORWARD_DRAIN_MS;
    const f = await forward.conclude(drainMs);
    if (forwardFailure !== null) throw forwardFailure;
    summary.forward = f;
    if (f.undelivered > 0)
      process.stderr.write(
        `tickflow: forward: ${formatCount(f.undelivered)} alert(s) not delivered yet; they stay queued in the database and go out first at the next run with this --forward\n`,
      );
  }
  return summary;
}

/**
 * V8 flags for an embedded run, which V8 reads once, at start: the process replaces itself
 * (execve: same pid, same stdio, signals and exit codes, a kill -9 still kills the engine) with
 * the same command plus these flags, before it has opened anything. A run into PGlite gets
 * them all (EMBEDDED_V8_FLAGS, and more when paced); a run into PostgreSQL at full speed only
 * the small young generation (SERVER_V8_FLAGS); a paced one into PostgreSQL none.
 * - `--liftoff-only`: V8 compiles PGlite's 9 MB WASM module with Liftoff and then re-compiles
 *   its hot functions with TurboFan in the background. One of them (`raw_parser`, the SQL
 *   grammar, a 105 KB body) alone takes ≈ 600 MB of compiler memory in every run, which set
 *   the peak RSS of every embedded run; no V8 flag leaves it alone and tiers up the rest. The
 *   price is PGlite's speed: 500k trades ran at 235–244k trades/s and ≤ 340 MB with Liftoff
 *   alone, 287–319k and ≈ 790 MB with TurboFan (three runs each, alternated).
 * - `--max-semi-space-size=8` (MB): the young generation V8 sizes for a 24 GB machine grew to
 *   ≈ 100 MB under `--rate max`; at 8 MB a 500k run peaked at 325–335 MB instead of 443–497,
 *   at the same rate within the noise. Into PostgreSQL (1M trades, four runs each, alternated):
 *   peak RSS 206–247 MB instead of 326–365, and 4.2–4.4 s of CPU instead of 4.6–5.2.
 * - `--optimize-for-size`, for a paced run only (npm start): V8 keeps its heap tighter; RSS after
 *   a minute 201–203 MB instead of 214. At full speed it cost a quarter of the rate.
 * - `--no-opt --no-maglev`, for a paced run of at most SLOW_RATE trades/s (npm start's 1,000):
 *   JavaScript stays in V8's interpreter and baseline code, without the optimising compilers'
 *   memory; RSS after a minute 168 MB instead of 183–190. The price: 20 % of a core instead of
 *   12 % at 1,000 trades/s, 44 % instead of 24 % at 5,000; at full speed it ran at less than half
 *   the rate.
 * A flag the user gave Node (either form, `--no-` included) is left alone; where execve does
 * not exist (Windows) the run goes on as it is.
 */
const SERVER_V8_FLAGS = ['--max-semi-space-size=8'];
const EMBEDDED_V8_FLAGS = ['--liftoff-only', ...SERVER_V8_FLAGS];
const PACED_V8_FLAGS = ['--optimize-for-size'];
const SLOW_V8_FLAGS = ['--no-opt', '--no-maglev'];
const SLOW_RATE = 2_000;

/** `pacedRate`: trades/s of a paced run, null for one at full speed. */
function restartWithEmbeddedFlags(db: string, pacedRate: number | null): void {
  let pglite: boolean;
  try {
    pglite = parseDbTarget(db).kind === 'pglite';
  } catch {
    return; // openStore reports the bad --db.
  }
  if ((!pglite && pacedRate !== null) || typeof process.execve !== 'function') return;
  const given = new Set(process.execArgv.map(v8FlagName));
  const flags = !pglite
    ? SERVER_V8_FLAGS
    : [...EMBEDDED_V8_FLAGS, ...(pacedRate !== null ? PACED_V8_FLAGS : []), ...(pacedRate !== null && pacedRate <= SLOW_RATE ? SLOW_V8_FLAGS : [])];
  const missing = flags.filter((f) => !given.has(v8FlagName(f)));
  const script = process.argv[1];
  if (missing.length === 0 || script === undefined) return;
  try {
    process.execve(process.execPath, [process.execPath, ...missing, ...process.execArgv, script, ...process.argv.slice(2)], process.env);
  } catch {
    // Not worth failing the run for: it only costs memory.
  }
}

/** `--no-max_semi_space_size=4` → `max-semi-space-size`: V8 accepts both spellings and a negation. */
function v8FlagName(flag: string): string {
  return flag
    .replace(/=.*$/s, '')
    .replace(/^--(no-)?/, '')
    .replaceAll('_', '-');
}

function buildSource(flags: RunFlags, s: { source: string; rate: number | 'max'; seed: number | undefined; tickers: string[] | undefined }): Source {
  if (s.source === 'sim') {
    return new SimulatorSource({
      seed: s.seed ?? Date.now() >>> 0,
      tickers: s.tickers,
      rate: s.rate === 'max' ? null : s.rate,
      count: flags.count,
      durationMs: flags.duration,
      startMs: flags.startTime,
    });
  }
  if (s.source.startsWith('file:')) {
    const path = s.source.slice('file:'.length);
    if (path.length === 0) throw new TickflowError('bad_flag', '--source: file: needs a path, e.g. file:trades.jsonl (or file:- for stdin)');
    const problem = unreadableInput(path);
    if (problem !== null) throw new TickflowError('bad_input', `--source: cannot read ${problem}`);
    return new FileSource(path);
  }
  throw new TickflowError('bad_flag', `--source: "${s.source}" is not a source; use sim, file:PATH or kafka`);
}

/**
 * The Kafka consumer, its checkpointed engine and its alert/dead-letter publishing
 * (src/kafka/kafka-pipeline.ts). Loaded only for --source kafka: the Kafka client's modules
 * hold ≈ 50 MB, a quarter of an embedded run's footprint.
 */
async function openKafka(cmd: Command, flags: RunFlags, spec: PipelineSpec, groupId: string): Promise<KafkaPipeline> {
  const { openKafkaPipeline } = await import('../kafka/kafka-pipeline.ts');
  return openKafkaPipeline({
    settings: kafkaSettingsOf(cmd),
    spec,
    groupId,
    exitAtEnd: flags.stopAtEnd === true,
    onWarning: (line) => process.stderr.write(`tickflow: ${line}\n`),
  });
}

export function humanSummary(s: RunResult): string {
  const rows: [string, string][] = [
    ['read', formatCount(s.read)],
    ['stored', `${formatCount(s.stored)} new trades`],
    ['duplicates', formatCount(s.duplicates)],
    ['alerts', formatCount(s.alerts)],
    ['dead letters', formatCount(s.dead_letters)],
    ['late', formatCount(s.late)],
    ['candles', formatCount(s.candles)],
    ['took', `${(s.elapsed_ms / 1000).toFixed(1)} s (${formatCount(s.trades_per_s)} trades/s, peak RSS ${s.peak_rss_mb} MB)`],
  ];
  const f = s.forward;
  if (f !== undefined) {
    const summaries = f.summaries > 0 ? `, ${formatCount(f.held_back)} in ${formatCount(f.summaries)} summary message(s)` : '';
    const refused = f.refused > 0 ? `, ${formatCount(f.refused)} refused` : '';
    rows.push(['forwarded', `${formatCount(f.delivered)} to ${f.target}${summaries}${refused}, ${formatCount(f.undelivered)} still to send`]);
  }
  return rows.map(([k, v]) => `${k.padEnd(13)}${v}`).join('\n');
}
