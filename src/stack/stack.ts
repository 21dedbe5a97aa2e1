import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { flinkLog4j, kafkaLog4j, kafkaServerProperties, writeStackConfig } from './config.ts';
import { redactUrl } from '../store/db-url.ts';
import { ensureTickflowDatabase } from './database.ts';
import { flinkProcessParams, type FlinkProcessParams } from './flink-resources.ts';
import { type FlinkOverview, type GatewayInfo, getJson, kafkaMetadata } from './health.ts';
import { type Java, findJava, flinkJvmModuleFlags } from './java.ts';
import { type Component, type StackLayout, components, logFile, outFile, stackLayout } from './layout.ts';
import { findStackProcesses, identityFlags, type Launch, launch, runningPid, stopComponentProcess, tailLines, terminate } from './processes.ts';
import { isPortFree, portOwner } from './ports.ts';
import { isResolved, resolveStack } from './resolve.ts';
import { ensureUdfJar, isUdfBuilt, udfJarPath } from './udf.ts';
import { withUpLock } from './up-lock.ts';
import type { StackPorts, StackSettings } from './settings.ts';
import { stackError } from './stack-error.ts';
import { stackVersions, type StackVersions } from './versions.ts';

export type Report = (line: string) => void;

/** Where the stack's pieces are and how to reach them; what later code (tests, deploy) needs. */
export type StackInfo = {
  dir: string;
  layout: StackLayout;
  versions: StackVersions;
  ports: StackPorts;
  slots: number;
  kafkaBootstrap: string;
  flinkRestUrl: string;
  gatewayUrl: string;
  /** Classpath strings for `java -cp`, one per component. */
  classpath: { kafka: string; flink: string; gateway: string };
  pids: Record<Component, number | null>;
  /** The URL of the tickflow database, when PostgreSQL was checked. */
  databaseUrl: string | null;
};

export type ComponentStatus = {
  component: Component;
  pid: number | null;
  healthy: boolean;
  /** One line: where it listens and what it reports. */
  detail: string;
};

type SavedState = {
  settings: StackSettings;
  startedAt: string;
  databaseUrl: string | null;
};

const componentPorts = (ports: StackPorts): Record<Component, Array<{ port: number; what: string; flag: string; env: string }>> => ({
  kafka: [
    { port: ports.kafka, what: 'Kafka broker', flag: '--kafka-port', env: 'TICKFLOW_KAFKA_PORT' },
    { port: ports.kafkaController, what: 'Kafka controller', flag: '--kafka-controller-port', env: 'TICKFLOW_KAFKA_CONTROLLER_PORT' },
  ],
  jobmanager: [
    { port: ports.flink, what: 'Flink REST/web UI', flag: '--flink-port', env: 'TICKFLOW_FLINK_PORT' },
    { port: ports.flinkRpc, what: 'Flink JobManager RPC', flag: '--flink-rpc-port', env: 'TICKFLOW_FLINK_RPC_PORT' },
  ],
  taskmanager: [],
  'sql-gateway': [{ port: ports.gateway, what: 'Flink SQL Gateway', flag: '--gateway-port', env: 'TICKFLOW_GATEWAY_PORT' }],
});

export function stackInfo(settings: StackSettings, pids: Record<Component, number | null> = emptyPids(), databaseUrl: string | null = null): StackInfo {
  const layout = stackLayout(settings.dir);
  const { host, ports } = settings;
  return {
    dir: settings.dir,
    layout,
    versions: stackVersions(),
    ports,
    slots: settings.slots,
    kafkaBootstrap: `${host}:${ports.kafka}`,
    flinkRestUrl: `http://${host}:${ports.flink}`,
    gatewayUrl: `http://${host}:${ports.gateway}`,
    // The parser function rides on the Flink classpaths (src/stack/udf.ts says why not ADD JAR).
    classpath: {
      kafka: `${layout.lib.kafka}/*`,
      flink: `${layout.lib.flink}/*:${udfJarPath(layout)}`,
      gateway: `${layout.lib.flink}/*:${layout.lib.gateway}/*:${udfJarPath(layout)}`,
    },
    pids,
    databaseUrl,
  };
}

function emptyPids(): Record<Component, number | null> {
  return { kafka: null, jobmanager: null, taskmanager: null, 'sql-gateway': null };
}

async function readState(layout: StackLayout): Promise<SavedState | null> {
  if (!existsSync(layout.stateFile)) return null;
  try {
    return JSON.parse(await readFile(layout.stateFile, 'utf8')) as SavedState;
  } catch {
    return null;
  }
}

async function runningPids(layout: StackLayout): Promise<Record<Component, number | null>> {
  const pids = emptyPids();
  for (const c of components) pids[c] = await runningPid(layout, c);
  return pids;
}

/**
 * The settings of a running stack win over the ones given (status/down/logs need no flags);
 * with nothing running, the given settings apply.
 */
export async function effectiveSettings(settings: StackSettings): Promise<StackSettings> {
  const layout = stackLayout(settings.dir);
  const state = await readState(layout);
  if (state === null) return settings;
  const pids = await runningPids(layout);
  return Object.values(pids).some((p) => p !== null) ? { ...state.settings, dir: settings.dir } : settings;
}

// ---------------------------------------------------------------------------------------------
// Launch specs: what flink-dist's bin/*.sh and Kafka's kafka-server-start.sh would have run.

function flinkLaunch(java: Java, layout: StackLayout, component: Component, main: string, classpath: string, jvm: string[], args: string[]): Launch {
  return {
    component,
    command: java.command,
    args: [
      ...jvm,
      ...flinkJvmModuleFlags,
      '-Duser.timezone=UTC',
      `-Djava.io.tmpdir=${layout.data.flinkTmp}`,
      `-Dlog.file=${logFile(layout, component)}`,
      `-Dlog4j.configuration=file:${flinkLog4j(layout)}`,
      `-Dlog4j.configurationFile=file:${flinkLog4j(layout)}`,
      ...identityFlags(layout, component),
      '-cp',
      classpath,
      main,
      ...args,
    ],
    env: {
      FLINK_CONF_DIR: layout.conf.flink,
      FLINK_LIB_DIR: layout.lib.flink,
      FLINK_PLUGINS_DIR: layout.data.flinkPlugins,
      FLINK_LOG_DIR: layout.logs,
    },
  };
}

function launchSpec(
  component: Component,
  java: Java,
  settings: StackSettings,
  layout: StackLayout,
  params: { jobmanager: FlinkProcessParams; taskmanager: FlinkProcessParams },
): Launch {
  const info = stackInfo(settings);
  switch (component) {
    case 'kafka':
      return {
        component,
        command: java.command,
        args: [
          `-Xmx${settings.kafkaHeap}`,
          '-Xms128m',
          '-XX:+UseG1GC',
          '-XX:MaxGCPauseMillis=20',
          '-XX:InitiatingHeapOccupancyPercent=35',
          '-XX:+ExplicitGCInvokesConcurrent',
          '-Djava.awt.headless=true',
          '-Duser.timezone=UTC',
          `-Dkafka.logs.dir=${layout.logs}`,
          `-Dtickflow.log.file=${logFile(layout, 'kafka')}`,
          `-Dlog4j2.configurationFile=${kafkaLog4j(layout)}`,
          ...identityFlags(layout, component),
          '-cp',
          info.classpath.kafka,
          'kafka.Kafka',
          kafkaServerProperties(layout),
        ],
      };
    case 'jobmanager':
      return flinkLaunch(
        java,
        layout,
        component,
        'org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint',
        info.classpath.flink,
        params.jobmanager.jvm,
        ['--configDir', layout.conf.flink, '--executionMode', 'cluster', ...params.jobmanager.dynamic],
      );
    case 'taskmanager':
      return flinkLaunch(java, layout, component, 'org.apache.flink.runtime.taskexecutor.TaskManagerRunner', info.classpath.flink, params.taskmanager.jvm, [
        '--configDir',
        layout.conf.flink,
        ...params.taskmanager.dynamic,
      ]);
    case 'sql-gateway':
      // A client JVM (parses, plans, submits): no managed memory, a modest heap is enough.
      return flinkLaunch(
        java,
        layout,
        component,
        'org.apache.flink.table.gateway.SqlGateway',
        info.classpath.gateway,
        [`-Xmx${settings.gatewayHeap}`, '-Xms128m'],
        [],
      );
  }
}

/** A Kafka cluster id: 16 random bytes, base64url without padding (what StorageTool random-uuid prints). */
function kafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Formats the KRaft metadata log once; `up` after `down` keeps topics and offsets. */
async function formatKafkaStorage(java: Java, layout: StackLayout, timeoutMs: number): Promise<boolean> {
  if (existsSync(join(layout.data.kafka, 'meta.properties'))) return false;
  try {
    await promisify(execFile)(
      java.command,
      [
        `-Dlog4j2.configurationFile=${join(layout.conf.kafka, 'tools-log4j2.properties')}`,
        '-cp',
        `${layout.lib.kafka}/*`,
        'kafka.tools.StorageTool',
        'format',
        '--ignore-formatted',
        '--cluster-id',
        kafkaClusterId(),
        '--config',
        kafkaServerProperties(layout),
      ],
      { timeout: timeoutMs },
    );
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    const lines = `${e.stdout ?? ''}${e.stderr ?? ''}`
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-5);
    throw stackError(`formatting Kafka's storage in ${layout.data.kafka} failed`, 'environment', lines);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Health

/** One probe of a component: healthy or not, plus a line to show. Never throws. */
export async function probe(component: Component, settings: StackSettings, timeoutMs = 3000): Promise<{ healthy: boolean; detail: string }> {
  const info = stackInfo(settings);
  try {
    switch (component) {
      case 'kafka': {
        const meta = await kafkaMetadata(settings.host, settings.ports.kafka, timeoutMs);
        return meta.brokers.length > 0
          ? {
              healthy: true,
              detail: `${info.kafkaBootstrap} (controller :${settings.ports.kafkaController}), ${meta.brokers.length} broker, cluster ${meta.clusterId}`,
            }
          : { healthy: false, detail: `${info.kafkaBootstrap}: no broker registered yet` };
      }
      case 'jobmanager': {
        const o = await getJson<FlinkOverview>(`${info.flinkRestUrl}/overview`, timeoutMs);
        return { healthy: true, detail: `${info.flinkRestUrl} (web UI + REST), Flink ${o['flink-version']}, ${o['jobs-running']} job(s) running` };
      }
      case 'taskmanager': {
        const o = await getJson<FlinkOverview>(`${info.flinkRestUrl}/overview`, timeoutMs);
        const healthy = o.taskmanagers >= 1 && o['slots-total'] >= 1;
        return { healthy, detail: `${o.taskmanagers} registered, ${o['slots-available']}/${o['slots-total']} slots free` };
      }
      case 'sql-gateway': {
        const i = await getJson<GatewayInfo>(`${info.gatewayUrl}/v1/info`, timeoutMs);
        return { healthy: true, detail: `${info.gatewayUrl} (REST /v1), ${i.productName} ${i.version}` };
      }
    }
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return { healthy: false, detail: `not answering (${cause})` };
  }
}

async function taskManagerIds(settings: StackSettings): Promise<Set<string>> {
  try {
    const list = await getJson<{ taskmanagers: Array<{ id: string }> }>(`http://${settings.host}:${settings.ports.flink}/taskmanagers`, 2000);
    return new Set(list.taskmanagers.map((t) => t.id));
  } catch {
    return new Set();
  }
}

/**
 * Waits until the component answers, failing fast (with the tail of its logs) when its process
 * dies, and failing after the timeout otherwise. For a TaskManager, "answers" means a TaskManager
 * not in `knownTaskManagers` registered with free slots: after a kill, the JobManager still
 * lists the dead one until its heartbeat times out.
 */
async function waitHealthy(
  component: Component,
  pid: number,
  settings: StackSettings,
  layout: StackLayout,
  knownTaskManagers: Set<string>,
  signal?: AbortSignal,
): Promise<string> {
  const deadline = Date.now() + settings.timeoutMs;
  let last = 'not started';
  for (;;) {
    if (signal?.aborted) throw new Error(`stopped waiting for ${component}`);
    if ((await runningPid(layout, component)) !== pid) {
      const lines = [...(await tailLines(outFile(layout, component), 10)), ...(await tailLines(logFile(layout, component), 20))];
      throw stackError(`${component} exited while starting; the last lines of logs/${component}.out and .log:`, 'environment', lines);
    }
    const result = await probe(component, settings, 2000);
    last = result.detail;
    if (result.healthy) {
      if (component !== 'taskmanager') return result.detail;
      const ids = await taskManagerIds(settings);
      if ([...ids].some((id) => !knownTaskManagers.has(id))) return result.detail;
    }
    if (Date.now() > deadline) {
      const lines = await tailLines(logFile(layout, component), 15);
      throw stackError(
        `${component} did not become healthy within ${Math.round(settings.timeoutMs / 1000)} s (${last}); see logs/${component}.log:`,
        'environment',
        lines,
      );
    }
    await sleep(500);
  }
}

// ---------------------------------------------------------------------------------------------
// Commands

export type UpResult = {
  info: StackInfo;
  started: Component[];
  alreadyRunning: Component[];
  resolved: { resolved: boolean; seconds: number };
  seconds: number;
  status: ComponentStatus[];
};

/**
 * Brings the whole stack up: resolve jars (first run), write configs, check PostgreSQL, start
 * what is not running, wait until each answers. Idempotent: running components are left alone.
 * If a component fails to start, the ones this call started are stopped again.
 */
export async function stackUp(requested: StackSettings, report: Report = () => {}): Promise<UpResult> {
  const layout = stackLayout(requested.dir);
  // Resolving can take minutes on a cold ~/.m2; a waiting `up` gets that much more time.
  return withUpLock(layout, requested.timeoutMs + 15 * 60_000, () => up(requested, layout, report));
}

async function up(requested: StackSettings, layout: StackLayout, report: Report): Promise<UpResult> {
  const started = Date.now();
  const before = await runningPids(layout);
  const anyRunning = Object.values(before).some((p) => p !== null);
  const state = await readState(layout);
  if (anyRunning && state !== null && !sameShape(state.settings, requested)) {
    throw stackError(
      `a stack is already running from ${layout.root} with other settings (${describePorts(state.settings.ports)}, ${state.settings.slots} slots); run \`tickflow stack down\` first`,
    );
  }
  const settings = requested;

  const toStart = components.filter((c) => before[c] === null);
  const alreadyRunning = components.filter((c) => before[c] !== null);

  // Every port is checked before anything starts: a taken port must not leave half a stack.
  const taken: string[] = [];
  for (const c of toStart) {
    for (const p of componentPorts(settings.ports)[c]) {
      if (!(await isPortFree(settings.host, p.port))) {
        const owner = await portOwner(p.port);
        taken.push(
          `port ${p.port} (${p.what}) on ${settings.host} is already in use${owner ? ` by ${owner}` : ''}; free it or choose another with ${p.flag} / ${p.env}`,
        );
      }
    }
  }
  if (taken.length > 0) throw stackError(taken[0]!, 'environment', taken.slice(1));

  const java = await findJava();
  if (java.major > 21) report(`warning: Java ${java.version}: Flink 1.20 is tested on 11/17 (21 experimental); set JAVA_HOME to a JDK 17 if Flink misbehaves`);
  let resolved = { resolved: false, seconds: 0 };
  if (anyRunning && !(await isResolved(layout))) {
    // Swapping jars under running JVMs would break their lazy class loading.
    report('warning: stack/pom.xml changed since the jars were resolved; run `tickflow stack down` then `up` to refresh them');
  } else {
    resolved = await resolveStack(layout, report);
    if (resolved.resolved) report(`resolved the stack's jars into ${join(layout.root, 'lib')} in ${resolved.seconds} s`);
  }

  const flinkRunning = components.some((c) => c !== 'kafka' && before[c] !== null);
  if (flinkRunning && !(await isUdfBuilt(layout))) {
    // The running JVMs loaded the old classes; a new jar under them would only mislead.
    report('warning: stack/udf changed since the parser function was built; run `tickflow stack down` then `up` to rebuild it');
  } else {
    const udf = await ensureUdfJar(layout, report);
    if (udf.built) report(`built the parser function into ${udf.jar} in ${udf.seconds} s`);
  }

  let databaseUrl: string | null = null;
  if (settings.databaseUrl !== null) {
    const db = await ensureTickflowDatabase(settings.databaseUrl, Math.min(settings.timeoutMs, 10_000));
    databaseUrl = db.url;
    report(`postgres     PostgreSQL ${db.serverVersion} at ${redactUrl(db.url)}${db.created ? ' (created database tickflow)' : ''}`);
  }

  if (toStart.length > 0) {
    if (toStart.includes('jobmanager') && toStart.includes('taskmanager') && toStart.includes('sql-gateway')) {
      // No Flink process is alive: what a killed one left in its temp folder is garbage.
      await rm(layout.data.flinkTmp, { recursive: true, force: true });
    }
    await writeStackConfig(settings, layout);
    if (toStart.includes('kafka') && (await formatKafkaStorage(java, layout, settings.timeoutMs))) {
      report(`kafka        formatted KRaft storage in ${layout.data.kafka}`);
    }
  }
  const params = toStart.some((c) => c !== 'kafka') ? await flinkProcessParams(java.command, layout) : null;
  const knownTaskManagers = toStart.includes('taskmanager') && !toStart.includes('jobmanager') ? await taskManagerIds(settings) : new Set<string>();

  // The running stack's settings are what status/down/logs use; a no-op `up` must not change them.
  if (toStart.length > 0) {
    const saved: SavedState = { settings: anyRunning && state !== null ? state.settings : settings, startedAt: new Date().toISOString(), databaseUrl };
    await writeFile(layout.stateFile, `${JSON.stringify(saved, null, 2)}\n`);
  }

  const launched: Component[] = [];
  // The first failure ends the wait for all: no point waiting minutes for the others.
  const abort = new AbortController();
  try {
    const waits: Array<Promise<string>> = [];
    for (const c of toStart) {
      const pid = await launch(layout, launchSpec(c, java, settings, layout, params!));
      launched.push(c);
      report(`${c.padEnd(12)} starting (pid ${pid})…`);
      waits.push(waitHealthy(c, pid, settings, layout, knownTaskManagers, abort.signal));
    }
    // A component that was already running may still be starting (a second `up` right after
    // the first): wait for it too, so `up` returning means every component answers.
    for (const c of alreadyRunning) waits.push(waitHealthy(c, before[c]!, settings, layout, new Set(), abort.signal));
    await new Promise<void>((resolve, reject) => {
      let pending = waits.length;
      if (pending === 0) resolve();
      for (const wait of waits)
        wait.then(() => {
          if (--pending === 0) resolve();
        }, reject);
    });
  } catch (error) {
    abort.abort();
    for (const c of [...launched].reverse()) await stopComponentProcess(layout, c, 15_000);
    if (alreadyRunning.length === 0) await rm(layout.stateFile, { force: true });
    throw error;
  }

  const status = await stackStatus(settings);
  return {
    info: stackInfo(settings, await runningPids(layout), databaseUrl),
    started: toStart,
    alreadyRunning,
    resolved,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    status,
  };
}

function sameShape(a: StackSettings, b: StackSettings): boolean {
  return JSON.stringify(a.ports) === JSON.stringify(b.ports) && a.slots === b.slots;
}

function describePorts(p: StackPorts): string {
  return `Kafka ${p.kafka}, controller ${p.kafkaController}, Flink ${p.flink}, RPC ${p.flinkRpc}, gateway ${p.gateway}`;
}

/** Each component's process and health (probes run in parallel, 3 s bound each). */
export async function stackStatus(requested: StackSettings): Promise<ComponentStatus[]> {
  const settings = await effectiveSettings(requested);
  const layout = stackLayout(settings.dir);
  return Promise.all(
    components.map(async (component) => {
      const pid = await runningPid(layout, component);
      if (pid === null) return { component, pid, healthy: false, detail: 'stopped' };
      const { healthy, detail } = await probe(component, settings);
      return { component, pid, healthy, detail };
    }),
  );
}

export type DownResult = { stopped: Array<{ component: string; pid: number; outcome: string }>; purged: boolean };

/**
 * Stops the processes this stack folder started — by their recorded pids, then any stray JVM
 * still carrying the folder's identity flag — and waits for each to exit. Data stays unless
 * `purge` (then data, logs, configs and run state go; downloaded jars stay).
 */
export async function stackDown(requested: StackSettings, options: { purge?: boolean } = {}, report: Report = () => {}): Promise<DownResult> {
  const settings = await effectiveSettings(requested);
  const layout = stackLayout(settings.dir);
  const stopped: DownResult['stopped'] = [];
  const stop = async (c: Component) => {
    const { pid, outcome } = await stopComponentProcess(layout, c, settings.timeoutMs);
    if (pid !== null) {
      stopped.push({ component: c, pid, outcome });
      report(`${c.padEnd(12)} stopped (pid ${pid}${outcome === 'killed' ? ', killed after the timeout' : ''})`);
    }
  };
  // Clients of the cluster first, the JobManager next; Kafka last, so Flink jobs stop reading
  // from a live broker rather than from one that vanished.
  await Promise.all([stop('sql-gateway'), stop('taskmanager')]);
  await stop('jobmanager');
  await stop('kafka');
  if (existsSync('/proc')) {
    for (const stray of findStackProcesses(layout)) {
      const outcome = await terminate(stray.pid, settings.timeoutMs);
      stopped.push({ component: stray.component, pid: stray.pid, outcome });
      report(`${stray.component.padEnd(12)} stopped stray process (pid ${stray.pid})`);
    }
  }
  await rm(layout.stateFile, { force: true });
  if (options.purge === true) {
    for (const dir of ['data', 'logs', 'conf', 'run']) await rm(join(layout.root, dir), { recursive: true, force: true });
    report(`purged data, logs and configs under ${layout.root} (jars kept)`);
  }
  return { stopped, purged: options.purge === true };
}

/**
 * Starts one component of an existing stack (e.g. a TaskManager after a recovery test killed
 * it) and waits until it is healthy. A no-op when it already runs.
 */
export async function startComponent(requested: StackSettings, component: Component): Promise<number> {
  const settings = await effectiveSettings(requested);
  const layout = stackLayout(settings.dir);
  const running = await runningPid(layout, component);
  if (running !== null) return running;
  for (const p of componentPorts(settings.ports)[component]) {
    if (!(await isPortFree(settings.host, p.port))) throw stackError(`port ${p.port} (${p.what}) is already in use; cannot start ${component}`);
  }
  const java = await findJava();
  const params = component === 'kafka' ? null : await flinkProcessParams(java.command, layout);
  const known = component === 'taskmanager' ? await taskManagerIds(settings) : new Set<string>();
  const pid = await launch(layout, launchSpec(component, java, settings, layout, params!));
  try {
    await waitHealthy(component, pid, settings, layout, known);
  } catch (error) {
    await stopComponentProcess(layout, component, 15_000);
    throw error;
  }
  return pid;
}

export const startTaskManager = (settings: StackSettings): Promise<number> => startComponent(settings, 'taskmanager');

/** Stops one component; `SIGKILL` simulates a crash. Resolves once the process is gone. */
export async function stopComponent(requested: StackSettings, component: Component, options: { signal?: 'SIGTERM' | 'SIGKILL' } = {}) {
  const settings = await effectiveSettings(requested);
  return stopComponentProcess(stackLayout(settings.dir), component, settings.timeoutMs, options.signal ?? 'SIGTERM');
}

/** Paths, ports, URLs and pids of the stack as it runs now (settings of the running stack win). */
export async function currentStackInfo(requested: StackSettings): Promise<StackInfo> {
  const settings = await effectiveSettings(requested);
  const layout = stackLayout(settings.dir);
  const state = await readState(layout);
  return stackInfo(settings, await runningPids(layout), state?.databaseUrl ?? null);
}
