/**
 * What the fault tests share: a tickflow process in the background whose output is kept, a
 * paced writer into its stdin (a live stream that honours backpressure), resident-memory
 * samples, and /metrics scraping.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export { freePort } from '../server/helpers.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface Background {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Everything written to stderr so far. */
  stderr(): string;
}

export function startTickflow(args: string[], o: { stdin?: boolean; env?: NodeJS.ProcessEnv } = {}): Background {
  const child = spawn(process.execPath, [MAIN, ...args], {
    stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...o.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // A child that exits while being fed must fail the test by its exit, not crash the runner.
  child.stdin?.on('error', () => {});
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done, stderr: () => stderr };
}

/**
 * Writes lines into the child's stdin at about `perSecond`, waiting whenever the pipe is full:
 * a stalled tickflow stalls this writer instead of letting anything pile up unseen.
 */
export async function feedLines(child: ChildProcess, lines: Uint8Array[], perSecond: number, onProgress?: (sent: number) => void): Promise<void> {
  const stdin = child.stdin!;
  const started = Date.now();
  const chunk = Math.max(1, Math.round(perSecond / 20));
  for (let i = 0; i < lines.length; i += chunk) {
    const part = lines.slice(i, i + chunk).flatMap((l) => [l, Buffer.from('\n')]);
    if (!stdin.write(Buffer.concat(part))) await new Promise((r) => stdin.once('drain', r));
    onProgress?.(Math.min(i + chunk, lines.length));
    const due = started + ((i + chunk) / perSecond) * 1000;
    if (due > Date.now()) await sleep(due - Date.now());
  }
  stdin.end();
}

/** Resident memory of a process now, from /proc (Linux). */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

/** Samples a process's RSS every 200 ms until stopped; returns the peak. */
export function watchRss(pid: number): { stop: () => number } {
  let peak = 0;
  const t = setInterval(() => {
    try {
      peak = Math.max(peak, rssMb(pid));
    } catch {
      // the process ended between samples
    }
  }, 200);
  return {
    stop: () => {
      clearInterval(t);
      return peak;
    },
  };
}

/** One sample's value from a Prometheus text page, or null when the series is absent. */
export async function metric(baseUrl: string, name: string): Promise<number | null> {
  const text = await fetch(`${baseUrl}/metrics`).then((r) => r.text());
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? null : Number(line.slice(name.length + 1));
}

/** Polls `check` every 100 ms; on timeout the error carries `context()` (e.g. a child's stderr). */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 120_000, context?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${context ? `\n${context()}` : ''}`);
    await sleep(100);
  }
}

