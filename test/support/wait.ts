import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** What is awaited, in words: the timeout error starts with it. */
  what: string;
  timeoutMs?: number;
  everyMs?: number;
  /** Appended to the timeout error (e.g. a child's stderr, the last state seen). */
  context?: () => string;
}

/**
 * Polls `condition` until it returns a value other than false, null or undefined, and returns
 * that value. An exception from `condition` fails the wait at once (a child that exited, a job
 * that failed): a probe that may fail while the thing starts catches that itself.
 */
export async function waitFor<T>(condition: () => T | false | null | undefined | Promise<T | false | null | undefined>, o: WaitOptions): Promise<T> {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await condition();
    if (v !== false && v !== null && v !== undefined) return v;
    if (Date.now() > deadline) {
      const context = o.context?.();
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${o.what}${context ? `\n${context}` : ''}`);
    }
    await sleep(o.everyMs ?? 100);
  }
}
