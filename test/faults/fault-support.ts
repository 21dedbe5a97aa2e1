/**
 * What the fault tests share: a paced writer into a tickflow process's stdin (a live stream
 * that honours backpressure), resident-memory samples, and /metrics scraping.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

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
