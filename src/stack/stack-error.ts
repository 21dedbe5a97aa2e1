import { TickflowError } from '../tickflow-error.ts';

/**
 * A problem the user can act on (Java missing, port taken, a component that died): one line,
 * plus, for a dead component, the tail of its log as details — never a stack trace. `usage`
 * marks a bad flag or environment value.
 */
export function stackError(message: string, kind: 'usage' | 'environment' = 'environment', details: readonly string[] = []): TickflowError {
  return new TickflowError(kind === 'usage' ? 'bad_config' : 'stack_failed', message, { details });
}
