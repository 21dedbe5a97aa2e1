import { retryAfterMs } from './backoff.ts';
import type { Target } from './target.ts';

/** What one POST came to. */
export type Attempt =
  | { readonly outcome: 'delivered' }
  /** A 4xx other than 408/429: the endpoint will not take this message, however often it is sent. */
  | { readonly outcome: 'refused'; readonly reason: string }
  /** 5xx, 408, 429, a network error or a timeout: worth sending again. */
  | { readonly outcome: 'retry'; readonly reason: string; readonly retryAfterMs: number | null };

const RETRIED_4XX = new Set([408, 429]);

/** Posts one JSON body to the target; never throws. */
export async function post(target: Target, body: string, timeoutMs: number): Promise<Attempt> {
  let res: Response;
  try {
    res = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'tickflow-alerts-forward' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    return { outcome: 'retry', reason: networkReason(e, timeoutMs), retryAfterMs: null };
  }
  const status = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
  if (res.ok) {
    // Read to the end so the connection goes back to the pool.
    await res.arrayBuffer().catch(() => {});
    return { outcome: 'delivered' };
  }
  const text = await res.text().catch(() => '');
  const said = text.trim() === '' ? '' : `: ${printable(text)}`;
  if (res.status >= 400 && res.status < 500 && !RETRIED_4XX.has(res.status)) return { outcome: 'refused', reason: `${status}${said}` };
  if (res.status < 400 && res.status >= 300) return { outcome: 'refused', reason: `${status} (a redirect that was not followed)` };
  return { outcome: 'retry', reason: `${status}${said}`, retryAfterMs: retryAfterMs(res.headers.get('retry-after')) };
}

function networkReason(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError') return `no answer within ${(timeoutMs / 1000).toFixed(0)} s`;
  const cause = err.cause;
  if (cause?.code !== undefined) return `${cause.code}${cause.message ? `: ${cause.message}` : ''}`;
  return err.message ?? String(e);
}

/** An endpoint's answer shown on one line, short and without control characters. */
function printable(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}
