/**
 * Flink answers errors as {"errors": ["Internal server error.", "<java stack trace>"]}. The
 * useful part is the deepest "Caused by:" line (or the exception message at the top of the
 * trace); everything else is noise to a user.
 */
export function rootCause(body: string): string {
  let messages: string[] = [];
  try {
    const parsed = JSON.parse(body) as { errors?: unknown };
    if (Array.isArray(parsed.errors)) messages = parsed.errors.filter((e): e is string => typeof e === 'string');
  } catch {
    messages = [body];
  }
  const text = messages.join('\n');
  const causes = [...text.matchAll(/Caused by: ([^\n]+)/g)].map((m) => cleanException(m[1]!));
  const useful = causes.filter((c) => c.length > 0 && !/^(java\.util\.concurrent\.)?(CompletionException|ExecutionException)/.test(c));
  if (useful.length > 0) {
    // The last cause is the root; the one before it often names the statement context.
    const root = useful.at(-1)!;
    const context = useful.length > 1 ? useful.at(-2)! : '';
    return context !== '' && !root.includes(context) && context.length < 200 ? `${root} (${context})` : root;
  }
  const first = messages.find((m) => m !== 'Internal server error.') ?? messages[0] ?? body;
  return cleanException(first.split('\n')[0] ?? first).slice(0, 500);
}

function cleanException(line: string): string {
  // "org.apache.flink.table.api.ValidationException: Object 'x' not found" → "Object 'x' not found (ValidationException)"
  const m = /^([a-z][\w.]*\.)?([A-Z]\w*(?:Exception|Error)):\s*(.*)$/.exec(line.trim());
  if (m === null) return line.trim();
  const message = m[3]!.trim();
  return message === '' ? m[2]! : `${message} (${m[2]})`;
}
