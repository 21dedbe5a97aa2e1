import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Component, type StackLayout, logFile, outFile, pidFile } from './layout.ts';

/**
 * Every JVM we start carries these two system properties. A pid file alone could point at an
 * unrelated process after a reboot (pids are reused); the properties prove the process is ours.
 */
export function identityFlags(layout: StackLayout, component: Component): string[] {
  return [`-Dtickflow.stack=${layout.root}`, `-Dtickflow.component=${component}`];
}

// Linux tells us a process's arguments through /proc; elsewhere we can only ask whether it lives.
const hasProc = existsSync('/proc/self/cmdline');

function commandLine(pid: number): string[] | null {
  if (!hasProc) {
    try {
      process.kill(pid, 0);
      return [];
    } catch {
      return null;
    }
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // A zombie has exited; it only waits for its parent to collect its status.
    if (/^\d+ \(.*\) Z/.test(stat)) return null;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return null;
  }
}

function isOurs(pid: number, layout: StackLayout, component: Component): boolean {
  const args = commandLine(pid);
  if (args === null) return false;
  if (!hasProc) return true;
  const [stack, comp] = identityFlags(layout, component);
  return args.includes(stack!) && args.includes(comp!);
}

/** The pid of the component if it is running and is ours, else null. */
export async function runningPid(layout: StackLayout, component: Component): Promise<number | null> {
  const path = pidFile(layout, component);
  if (!existsSync(path)) return null;
  const pid = Number((await readFile(path, 'utf8')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  return isOurs(pid, layout, component) ? pid : null;
}

export function isAlive(pid: number): boolean {
  return commandLine(pid) !== null;
}

/** Every live process started for this stack folder, found by its identity flag (pid files aside). */
export function findStackProcesses(layout: StackLayout): Array<{ pid: number; component: string }> {
  const marker = `-Dtickflow.stack=${layout.root}`;
  const found: Array<{ pid: number; component: string }> = [];
  if (!hasProc) return found;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const args = commandLine(Number(entry));
    if (args === null || !args.includes(marker)) continue;
    const component = args.find((a) => a.startsWith('-Dtickflow.component='))?.slice('-Dtickflow.component='.length) ?? '?';
    found.push({ pid: Number(entry), component });
  }
  return found;
}

export type Launch = {
  component: Component;
  command: string;
  args: string[];
  env?: Record<string, string>;
};

/**
 * Starts a JVM detached from us (its own session: it outlives the CLI), stdout/stderr into
 * logs/<component>.out, and records its pid. The previous run's logs are kept as *.1.
 */
export async function launch(layout: StackLayout, spec: Launch): Promise<number> {
  for (const path of [logFile(layout, spec.component), outFile(layout, spec.component)]) {
    if (existsSync(path)) await rename(path, `${path}.1`);
  }
  const out = openSync(outFile(layout, spec.component), 'w');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: layout.root,
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, ...spec.env },
    });
    // A spawn failure (ENOENT) surfaces as an event; the health wait then reports the death.
    child.on('error', () => {});
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${spec.component}`);
    await writeFile(pidFile(layout, spec.component), `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/**
 * SIGTERM (lets Kafka flush and Flink deregister), waits up to `timeoutMs`, then SIGKILL.
 * Resolves once the process is gone. `signal: 'SIGKILL'` simulates a crash (recovery tests).
 */
export async function terminate(pid: number, timeoutMs: number, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<'exited' | 'killed'> {
  const send = (s: NodeJS.Signals) => {
    try {
      process.kill(pid, s);
    } catch {
      // already gone
    }
  };
  send(signal);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return signal === 'SIGKILL' ? 'killed' : 'exited';
    await sleep(100);
  }
  send('SIGKILL');
  const hardDeadline = Date.now() + 10_000;
  while (isAlive(pid) && Date.now() < hardDeadline) await sleep(100);
  if (isAlive(pid)) throw new Error(`process ${pid} survived SIGKILL`);
  return 'killed';
}

export async function stopComponentProcess(layout: StackLayout, component: Component, timeoutMs: number, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') {
  const pid = await runningPid(layout, component);
  let outcome: 'exited' | 'killed' | 'not running' = 'not running';
  if (pid !== null) outcome = await terminate(pid, timeoutMs, signal);
  await rm(pidFile(layout, component), { force: true });
  return { pid, outcome };
}

/** The last `count` lines of a file ('' when it does not exist). */
export async function tailLines(path: string, count: number): Promise<string[]> {
  if (!existsSync(path)) return [];
  const text = await readFile(path, 'utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-count);
}
