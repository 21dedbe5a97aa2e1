/** Exponential backoff with equal jitter: half the step is fixed, half random, so retries of many forwarders spread out. */
export interface Backoff {
  /** The first wait, doubled after each failure… */
  readonly firstMs: number;
  /** …up to this cap. */
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { firstMs: 500, maxMs: 15_000 };

/** The wait before retry number `attempt` (1 = the first retry). */
export function backoffDelay(attempt: number, b: Backoff, random: () => number = Math.random): number {
  const step = Math.min(b.maxMs, b.firstMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(step / 2 + random() * (step / 2));
}

/** Longest Retry-After honoured: a server asking for an hour is more likely wrong than right. */
export const MAX_RETRY_AFTER_MS = 600_000;

/** A Retry-After header (delay-seconds or an HTTP-date) in ms from `nowMs`; null when absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs: number = Date.now()): number | null {
  if (header === null) return null;
  const v = header.trim();
  if (/^\d+$/.test(v)) return Math.min(MAX_RETRY_AFTER_MS, Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - nowMs));
}
