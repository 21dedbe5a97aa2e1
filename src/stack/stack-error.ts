/**
 * A problem the user can act on (Java missing, port taken, a component that died): printed as
 * one line (plus, for a dead component, the tail of its log), never as a stack trace.
 * `usage` marks bad flags/env values, which exit with code 2.
 */
export class StackError extends Error {
  override readonly name = 'StackError';
  readonly kind: 'usage' | 'environment';
  /** Extra lines shown under the message, e.g. the last lines of a log. */
  readonly details: readonly string[];

  constructor(message: string, kind: 'usage' | 'environment' = 'environment', details: readonly string[] = []) {
    super(message);
    this.kind = kind;
    this.details = details;
  }
}
