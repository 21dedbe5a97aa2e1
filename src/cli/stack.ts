import { existsSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, Option } from 'commander';
import { type Component, components, logFile, stackLayout } from '../stack/layout.ts';
import { tailLines } from '../stack/processes.ts';
import { intFlag } from './parse-flags.ts';
import { stackSettingsFrom } from '../stack/settings.ts';
import { type ComponentStatus, currentStackInfo, stackDown, stackStatus, stackUp } from '../stack/stack.ts';
import { stackError } from '../stack/stack-error.ts';
import { stackVersions } from '../stack/versions.ts';
import { TickflowError } from '../tickflow-error.ts';
import { addSettings, layersOf } from './options.ts';

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

function dirOption(cmd: Command): Command {
  return addSettings(cmd, ['config', 'stackDir']);
}

const settingsOf = (cmd: Command, o: { postgres?: boolean } = {}) => stackSettingsFrom(layersOf(cmd), o);

function formatStatus(rows: ComponentStatus[]): string[] {
  return rows.map((r) => {
    const state = r.pid === null ? 'stopped' : r.healthy ? 'healthy' : 'UNHEALTHY';
    const pid = r.pid === null ? '' : `pid ${r.pid}`;
    return `${r.component.padEnd(12)} ${state.padEnd(9)} ${pid.padEnd(10)} ${r.pid === null ? '' : r.detail}`.trimEnd();
  });
}

const aliases: Record<string, Component | 'resolve'> = {
  kafka: 'kafka',
  jobmanager: 'jobmanager',
  jm: 'jobmanager',
  taskmanager: 'taskmanager',
  tm: 'taskmanager',
  'sql-gateway': 'sql-gateway',
  gateway: 'sql-gateway',
  resolve: 'resolve',
};

function upCommand(): Command {
  const cmd = dirOption(new Command('up'))
    .description('resolve (first run), configure and start Kafka + Flink + SQL Gateway; wait until healthy')
    .option('--no-postgres', 'do not check PostgreSQL')
    .option('--json', 'print the result as JSON');
  addSettings(cmd, ['kafkaPort', 'kafkaControllerPort', 'flinkPort', 'flinkRpcPort', 'gatewayPort', 'slots', 'stackTimeout', 'stackDatabaseUrl']);
  cmd.action(async (flags: { json?: boolean; postgres?: boolean }) => {
    const settings = settingsOf(cmd, { postgres: flags.postgres });
    const result = await stackUp(settings, (line) => (flags.json ? err(line) : out(line)));
    if (flags.json) {
      out(JSON.stringify({ ...result, info: { ...result.info, layout: undefined } }, null, 2));
      return;
    }
    for (const line of formatStatus(result.status)) out(line);
    if (result.started.length === 0) {
      out(`already running: nothing to start (${result.info.dir})`);
    } else {
      out(
        `stack up in ${result.seconds} s: started ${result.started.join(', ')}${result.alreadyRunning.length > 0 ? `; already running: ${result.alreadyRunning.join(', ')}` : ''}`,
      );
      out(`logs: ${result.info.layout.logs} (tickflow stack logs <component>) — stop with: tickflow stack down`);
    }
  });
  return cmd;
}

function downCommand(): Command {
  const cmd = dirOption(new Command('down'))
    .description('stop the processes `stack up` started (by pid) and wait for them to exit; data is kept')
    .option('--purge', 'also delete data (Kafka topics, Flink checkpoints), logs and configs; jars stay');
  addSettings(cmd, ['stackTimeout']);
  cmd.action(async (flags: { purge?: boolean }) => {
    const settings = settingsOf(cmd);
    const result = await stackDown(settings, { purge: flags.purge === true }, out);
    if (result.stopped.length === 0) out(`nothing was running (${settings.dir})`);
  });
  return cmd;
}

function statusCommand(): Command {
  const cmd = dirOption(new Command('status'))
    .description('state, pid, ports and health of each component (exit 0 all healthy, 3 otherwise)')
    .option('--json', 'print as JSON, with paths, ports, URLs and classpaths');
  cmd.action(async (flags: { json?: boolean }) => {
    const settings = settingsOf(cmd);
    const rows = await stackStatus(settings);
    const info = await currentStackInfo(settings);
    if (flags.json) {
      out(JSON.stringify({ components: rows, ...info, layout: info.layout }, null, 2));
    } else {
      const v = stackVersions();
      out(`stack ${info.dir}`);
      out(
        `versions: Flink ${v.flink} (Kafka connector ${v.flinkKafkaConnector}, JDBC ${v.flinkJdbcConnector}, PostgreSQL driver ${v.postgresqlDriver}), Kafka ${v.kafka}`,
      );
      for (const line of formatStatus(rows)) out(line);
    }
    const unhealthy = rows.filter((r) => !r.healthy).map((r) => r.component);
    if (unhealthy.length > 0) throw new TickflowError('not_running', `not running or not healthy: ${unhealthy.join(', ')}`);
  });
  return cmd;
}

function logsCommand(): Command {
  const cmd = dirOption(new Command('logs'))
    .description("show the end of a component's log (all components when none is named)")
    .argument('[component]', `${components.join(' | ')} | resolve (aliases: jm, tm, gateway)`)
    .addOption(new Option('-n, --lines <n>', 'how many lines').argParser(intFlag('--lines', 0, 1_000_000)).default(40))
    .option('-f, --follow', 'keep printing new lines until interrupted');
  cmd.action(async (name: string | undefined, flags: { lines: number; follow?: boolean }) => {
    const lines = flags.lines;
    let chosen: Array<Component | 'resolve'> = [...components];
    if (name !== undefined) {
      const c = aliases[name];
      if (c === undefined) throw new TickflowError('bad_flag', `no component "${name}": choose one of ${components.join(', ')}, resolve`);
      chosen = [c];
    }
    const settings = settingsOf(cmd);
    const layout = stackLayout(settings.dir);
    const pathOf = (c: Component | 'resolve') => (c === 'resolve' ? `${layout.logs}/resolve.log` : logFile(layout, c));
    const paths = chosen.map(pathOf);
    if (paths.every((p) => !existsSync(p))) throw stackError(`no logs yet under ${layout.logs} (has \`tickflow stack up\` run with this --dir?)`);
    for (const [i, path] of paths.entries()) {
      if (!existsSync(path)) continue;
      if (chosen.length > 1) out(`==> ${path} <==`);
      for (const line of await tailLines(path, lines)) out(line);
      if (chosen.length > 1 && i < paths.length - 1) out('');
    }
    if (flags.follow) await follow(paths, chosen.length > 1);
  });
  return cmd;
}

/** Polls the files for appended bytes (and restarts from 0 when one is rotated by a new `up`). */
async function follow(paths: string[], prefix: boolean): Promise<never> {
  const offsets = new Map(paths.map((p) => [p, existsSync(p) ? statSync(p).size : 0]));
  for (;;) {
    await sleep(500);
    for (const path of paths) {
      if (!existsSync(path)) continue;
      const size = statSync(path).size;
      let from = offsets.get(path) ?? 0;
      if (size < from) from = 0;
      if (size === from) continue;
      const handle = await open(path, 'r');
      const buffer = Buffer.alloc(size - from);
      await handle.read(buffer, 0, buffer.length, from);
      await handle.close();
      offsets.set(path, size);
      const text = buffer.toString('utf8');
      const tag = prefix
        ? `[${path
            .split('/')
            .pop()
            ?.replace(/\.log$/, '')}] `
        : '';
      process.stdout.write(prefix ? text.replace(/^(?=.)/gm, tag) : text);
    }
  }
}

/** `tickflow stack up|down|status|logs`: the local Kafka + Flink + SQL Gateway, without Docker. */
export function stackCommand(): Command {
  const cmd = new Command('stack').description('local Kafka + Flink + SQL Gateway assembled from Maven artifacts (no Docker): up | down | status | logs');
  for (const sub of [upCommand(), downCommand(), statusCommand(), logsCommand()]) {
    cmd.addCommand(sub);
  }
  const v = stackVersions();
  cmd.addHelpText(
    'after',
    `
Versions (stack/pom.xml): Flink ${v.flink}, Kafka ${v.kafka}, Kafka connector ${v.flinkKafkaConnector},
JDBC connector ${v.flinkJdbcConnector}, PostgreSQL driver ${v.postgresqlDriver}. Needs JDK 17+ (and Maven once).
Everything binds to 127.0.0.1. Defaults: Kafka 9092 (controller 9093), Flink UI/REST 8081, SQL Gateway 8083.`,
  );
  return cmd;
}
