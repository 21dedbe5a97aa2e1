import { setTimeout as sleep } from 'node:timers/promises';
import { isTransientDbError } from '../store/transient-error.ts';

export interface RetryOptions {
  /** Give up after this long in total. */
  maxElapsedMs: number;
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
  signal?: AbortSignal;
}

/** Exponential backoff (100 ms doubling to 5 s) on transient errors; anything else fails at once. */
export async function withRetry<T>(fn: () => Promise<T>, o: RetryOptions): Promise<T> {
  const started = Date.now();
  let delay = 100;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isTransientDbError(e) || Date.now() - started + delay > o.maxElapsedMs || o.signal?.aborted) throw e;
      o.onRetry?.(attempt, delay, e);
      await sleep(delay);
      delay = Math.min(delay * 2, 5_000);
    }
  }
}
