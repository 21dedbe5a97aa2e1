/** Small helpers for writing Flink SQL text safely. */

/** A SQL string literal: quotes doubled. Flink SQL literals take backslashes verbatim. */
export function str(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** An identifier in backticks (Flink's quoting), e.g. columns named like keywords (`raw`). */
export function ident(s: string): string {
  return `\`${s.replace(/`/g, '``')}\``;
}

/** The WITH (...) clause of a table: options in the order given, one per line. */
export function withOptions(options: Record<string, string>): string {
  return `WITH (\n${Object.entries(options)
    .map(([k, v]) => `  ${str(k)} = ${str(v)}`)
    .join(',\n')}\n)`;
}

/** An interval literal for a whole number of milliseconds (fractional seconds when needed). */
export function intervalMs(ms: number): string {
  // The leading precision must hold every digit: a bare SECOND allows two (99 s).
  if (ms % 1000 === 0) return `INTERVAL '${ms / 1000}' SECOND(${Math.max(2, String(ms / 1000).length)})`;
  return `INTERVAL '${(ms / 1000).toFixed(3)}' SECOND(9, 3)`;
}
