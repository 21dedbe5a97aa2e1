import { TickflowError } from '../tickflow-error.ts';
import type { KafkaSettings } from './config.ts';

/** A topic tickflow needs is not there: a typo or a missing `tickflow topics create`. */
export function topicMissing(topic: string, detail = ''): TickflowError {
  return new TickflowError('kafka_topic_missing', `topic "${topic}" does not exist (create it: tickflow topics create --topic ${topic})${detail}`);
}

/**
 * One readable line for an error from the Kafka client. The client nests causes
 * (MultipleErrors → errors[] → cause); the innermost socket or protocol error is the one a
 * user can act on, so it is surfaced first.
 */
export function describeKafkaError(e: unknown): string {
  const leaves: string[] = [];
  eachNestedError(e, (err, isLeaf) => {
    if (!isLeaf) return;
    const code = typeof err.code === 'string' && !err.code.startsWith('PLT_KFK_') ? `${err.code}: ` : '';
    const text = `${code}${err.message ?? String(err)}`.trim();
    if (text !== '' && !leaves.includes(text)) leaves.push(text);
  });
  if (leaves.length === 0) return e instanceof Error ? e.message : String(e);
  return leaves.slice(0, 2).join('; ');
}

type NestedError = { message?: string; code?: unknown; canRetry?: unknown; errors?: unknown[]; cause?: unknown };

/** Visits an error and its causes (MultipleErrors → errors[] → cause), each once, 6 levels deep at most. */
function eachNestedError(e: unknown, visit: (err: NestedError, isLeaf: boolean) => void): void {
  const seen = new Set<unknown>();
  const walk = (x: unknown, depth: number): void => {
    if (x === null || x === undefined || seen.has(x) || depth > 6) return;
    seen.add(x);
    const err = x as NestedError;
    const kids = [...(Array.isArray(err.errors) ? err.errors : []), ...(err.cause !== undefined ? [err.cause] : [])];
    visit(err, kids.length === 0);
    for (const k of kids) walk(k, depth + 1);
  };
  walk(e, 0);
}

/**
 * The broker could not be reached or refused us: something the user fixes (start the stack,
 * fix --brokers, credentials). The message is one line and says what to try.
 */
export function unavailable(settings: KafkaSettings, what: string, cause: unknown): TickflowError {
  const where = settings.brokers.join(',');
  const detail = cause === null ? '' : ` (${describeKafkaError(cause)})`;
  return new TickflowError(
    'kafka_unreachable',
    `${what}: cannot reach Kafka at ${where}${detail} — is the broker running (tickflow stack up)? set --brokers or KAFKA_BROKERS`,
  );
}

/**
 * The broker is away or electing leaders (a restart, a network cut): worth waiting out. Judged
 * the way the client judges its own retries — every nested error it marked retriable — plus the
 * socket errors of a broker that is not listening.
 */
export function isKafkaOutage(e: unknown): boolean {
  let retriable = false;
  let fatal = false;
  eachNestedError(e, (err) => {
    if (err.canRetry === false) fatal = true;
    if (err.canRetry === true) retriable = true;
    if (typeof err.code === 'string' && SOCKET_CODES.has(err.code)) retriable = true;
  });
  return retriable && !fatal;
}

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
