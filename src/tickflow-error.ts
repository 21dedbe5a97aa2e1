/**
 * The one error type a user sees. Its `code` is stable — scripts and `src/cli/main.ts`, which
 * maps each code to the process's exit status, rely on it — while the message is free to change.
 * Raised at the edges (flags, configuration, services, files); the engine never throws one.
 */
export const ERROR_CODES = {
  bad_flag: 'a flag or argument is malformed or out of range',
  bad_config: 'a configuration value (environment, config file, pipeline spec) is invalid',
  bad_input: 'an input file cannot be read',
  db_unavailable: 'the database cannot be opened, reached or migrated',
  db_in_use: 'the embedded database is open in another process',
  db_claim_lost: 'a claim this process held was taken by another process (after a database restart)',
  db_batch_failed: 'an earlier batch failed, so a later one may not commit past it',
  dashboard_unavailable: 'the dashboard cannot listen on its host and port',
  kafka_unreachable: 'the Kafka broker cannot be reached or refused the client',
  kafka_topic_missing: 'a topic tickflow needs does not exist',
  kafka_failed: 'Kafka refused or lost records while running',
  records_not_sent: 'some input records could not be sent (each is reported)',
  forward_failed: 'alerts forward, run --forward: the endpoint kept failing for longer than --max-outage',
  forward_in_use: 'another process forwards to the same target from the same database (run --forward)',
  flink_unreachable: 'the Flink REST API or SQL Gateway cannot be reached',
  flink_job_running: 'a Flink job of that name is already running',
  flink_no_job: 'no Flink job of that name is running',
  flink_nothing_to_restore: 'no savepoint or retained checkpoint to start from',
  flink_rules_changed: 'a savepoint or checkpoint belongs to other alert rules than those deployed',
  flink_failed: 'Flink refused a statement, or a job failed or timed out',
  stack_failed: 'a component of the local stack could not be prepared or started',
  not_running: 'a status check found something not running or not healthy',
  internal: 'an unexpected failure (TICKFLOW_DEBUG=1 prints the stack)',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class TickflowError extends Error {
  override readonly name = 'TickflowError';
  readonly code: ErrorCode;
  /** Lines printed under the message, e.g. the end of a component's log. */
  readonly details: readonly string[];

  constructor(code: ErrorCode, message: string, options: { details?: readonly string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? [];
  }
}

export function isTickflowError(e: unknown, ...codes: ErrorCode[]): e is TickflowError {
  return e instanceof TickflowError && (codes.length === 0 || codes.includes(e.code));
}
