/** A mistake the user can fix (bad flag, bad config, unreachable service): one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
