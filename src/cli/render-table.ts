/** A plain aligned table for terminals; cells are single-line and clipped. */
export function renderTable(rows: Record<string, unknown>[], maxCell = 48): string {
  if (rows.length === 0) return '(no rows)';
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown): string => {
    const s = v === null || v === undefined ? '' : String(v).replace(/[\x00-\x1f\x7f]/g, ' ');
    return s.length > maxCell ? `${s.slice(0, maxCell - 1)}…` : s;
  };
  const grid = rows.map((r) => cols.map((c) => cell(r[c])));
  const widths = cols.map((c, i) => Math.max(c.length, ...grid.map((g) => g[i]!.length)));
  const numeric = cols.map((_, i) => grid.every((g) => g[i] === '' || /^-?[\d.]+$/.test(g[i]!)));
  const line = (cells: string[]): string =>
    cells
      .map((s, i) => (numeric[i] ? s.padStart(widths[i]!) : s.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(cols), widths.map((w) => '─'.repeat(w)).join('  '), ...grid.map(line)].join('\n');
}
