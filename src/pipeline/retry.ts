import { setTimeout as sleep } from 'node:timers/promises';
import { isTransientDbError } from '../store/transient-error.ts';

export interface RetryOptions {
  /** Give up after this long in total. */
  maxElapsedMs: number;
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
  signal?: AbortSignal;
  /** Which errors are worth waiting out (default: a database going away). */
  retriable?: (e: unknown) => boolean;
  /** First wait, doubled after each failure up to maxDelayMs (defaults 100 ms and 5 s). */
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/** Exponential backoff on retriable errors; anything else fails at once. */
export async function withRetry<T>(fn: () => Promise<T>, o: RetryOptions): Promise<T> {
  const started = Date.now();
  const retriable = o.retriable ?? isTransientDbError;
  const maxDelay = o.maxDelayMs ?? 5_000;
  let delay = o.firstDelayMs ?? 100;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!retriable(e) || Date.now() - started + delay > o.maxElapsedMs || o.signal?.aborted) throw e;
      o.onRetry?.(attempt, delay, e);
      await sleep(delay);
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}
