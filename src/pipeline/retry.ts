import { setTimeout as sleep } from 'node:timers/promises';

/** Errors that mean "the database went away for a while", worth waiting out. */
export function isTransientDbError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== 'string') return false;
  return (
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'ETIMEDOUT' ||
    code === 'CONNECTION_CLOSED' ||
    code === 'CONNECTION_ENDED' ||
    code === 'CONNECTION_DESTROYED' ||
    code === 'CONNECT_TIMEOUT' ||
    code === '57P01' || // admin_shutdown
    code === '57P02' || // crash_shutdown
    code === '57P03' || // cannot_connect_now (starting up)
    code === '40001' || // serialization_failure
    code === '40P01' || // deadlock_detected
    code.startsWith('08') // connection exceptions
  );
}

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
