import type { KafkaSettings } from './config.ts';

/**
 * The broker could not be reached or refused us: something the user fixes (start the stack,
 * fix --brokers, credentials). The message is one line and says what to try.
 */
export class KafkaUnavailableError extends Error {
  override readonly name: string = 'KafkaUnavailableError';
}

/** The input topic is not there: a typo or a missing `tickflow topics create`. */
export class KafkaTopicMissingError extends KafkaUnavailableError {
  override readonly name = 'KafkaTopicMissingError';
}

/**
 * One readable line for an error from the Kafka client. The client nests causes
 * (MultipleErrors → errors[] → cause); the innermost socket or protocol error is the one a
 * user can act on, so it is surfaced first.
 */
export function describeKafkaError(e: unknown): string {
  const seen = new Set<unknown>();
  const leaves: string[] = [];
  const walk = (x: unknown, depth: number): void => {
    if (x === null || x === undefined || seen.has(x) || depth > 6) return;
    seen.add(x);
    const err = x as { message?: string; code?: string; errors?: unknown[]; cause?: unknown; apiName?: string };
    const kids = [...(Array.isArray(err.errors) ? err.errors : []), ...(err.cause !== undefined ? [err.cause] : [])];
    if (kids.length === 0) {
      const code = err.code && !err.code.startsWith('PLT_KFK_') ? `${err.code}: ` : '';
      const text = `${code}${err.message ?? String(x)}`.trim();
      if (text !== '' && !leaves.includes(text)) leaves.push(text);
      return;
    }
    for (const k of kids) walk(k, depth + 1);
  };
  walk(e, 0);
  if (leaves.length === 0) return e instanceof Error ? e.message : String(e);
  return leaves.slice(0, 2).join('; ');
}

export function unavailable(settings: KafkaSettings, what: string, cause: unknown): KafkaUnavailableError {
  const where = settings.brokers.join(',');
  const detail = cause === null ? '' : ` (${describeKafkaError(cause)})`;
  return new KafkaUnavailableError(
    `${what}: cannot reach Kafka at ${where}${detail} — is the broker running (tickflow stack up)? set --brokers or KAFKA_BROKERS`,
  );
}
