import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Data reaches PostgreSQL only as parameters. Every template string in src that reads as SQL
 * is found by a small lexer (below; comments, strings and regular expressions skipped), and each `${…}` in it must be one of the fragments
 * below — constants and helpers that expand to fixed SQL text, never a value from a record,
 * a request or a flag. A new interpolation fails this test until it is judged and listed.
 * (src/flink and the rules' builders in src/rules build Flink SQL from the validated spec, which the SQL Gateway cannot take as
 * parameters; it is not sent by our PostgreSQL clients and is left out.)
 */
const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

const ALLOWED: Record<string, string> = {
  "iso('window_start')": 'a column name in a to_char() helper',
  "iso('window_end')": 'a column name in a to_char() helper',
  "iso('trade_timestamp')": 'a column name in a to_char() helper',
  "iso('detected_at')": 'a column name in a to_char() helper',
  "iso('c.window_start')": 'a column name in a to_char() helper',
  "iso('c.window_end')": 'a column name in a to_char() helper',
  sessions: "a constant subquery (the watchlist: each ticker's newest UTC day of candles)",
  "fromMs('$1')": 'a placeholder ($n) wrapped in to_timestamp()',
  "fromMs('$2')": 'a placeholder ($n) wrapped in to_timestamp()',
  "fromMs('$3')": 'a placeholder ($n) wrapped in to_timestamp()',
  ISO_MS: 'a constant format string',
  col: 'the column given to iso(), itself a literal at every call',
  p: 'the placeholder given to fromMs(), itself a literal at every call',
  ALERT_COLUMNS: 'a constant column list',
  ALERT_COLUMN_LIST: "trade_alerts' constant column list",
  ALERT_ARRAYS: 'constant $n::type[] placeholders, one per trade_alerts column',
  TRADE_COLUMNS: 'a constant column list',
  STAGE_TABLE: 'a constant temp-table name',
  target: 'a table name chosen by the store from constants (stock_trades or the stage table)',
  'name.replace(/"/g, \'""\')':
    "a database name (the user's own --db URL, the stack's constant), quoted as an identifier (CREATE DATABASE takes no parameters)",
};

const SQL =
  /\b(SELECT\s|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|DATABASE|INDEX|ROLE|TEMP)|DROP\s+(TABLE|DATABASE|ROLE)|COPY\s|ALTER\s+TABLE|TRUNCATE\s)/i;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

interface Interpolation {
  file: string;
  line: number;
  expr: string;
}

interface Template {
  line: number;
  /** sql`…` (postgres.js): its `${…}` are sent as parameters by the library. */
  tagged: boolean;
  /** The literal parts, and the source text of each `${…}` between them. */
  parts: string[];
  exprs: { line: number; text: string }[];
}

/**
 * Template literals of a TypeScript file. Enough of a lexer for this codebase: it skips
 * comments, quoted strings and regular expressions (a `/` where an operand may start), and
 * follows `${…}` with nested braces and templates.
 */
function templates(src: string): Template[] {
  const out: Template[] = [];
  const lineAt = (i: number): number => src.slice(0, i).split('\n').length;
  let i = 0;
  let prev = ''; // last significant character, to tell a regex from a division
  const skipString = (q: string): void => {
    for (i++; i < src.length && src[i] !== q; i++) if (src[i] === '\\') i++;
    i++;
  };
  const skipRegex = (): void => {
    let cls = false;
    for (i++; i < src.length; i++) {
      const c = src[i];
      if (c === '\\') i++;
      else if (c === '[') cls = true;
      else if (c === ']') cls = false;
      else if (c === '/' && !cls) break;
    }
    for (i++; /[a-z]/.test(src[i] ?? ''); i++);
  };
  // Reads a template starting at the backtick at i; returns after its closing backtick.
  const readTemplate = (): void => {
    const t: Template = { line: lineAt(i), tagged: /[\w$]/.test(src[i - 1] ?? ''), parts: [], exprs: [] };
    out.push(t);
    let part = '';
    for (i++; i < src.length; i++) {
      const c = src[i];
      if (c === '\\') {
        part += src[i + 1];
        i++;
      } else if (c === '`') {
        break;
      } else if (c === '$' && src[i + 1] === '{') {
        t.parts.push(part);
        part = '';
        const start = i + 2;
        i += 2;
        code(1);
        t.exprs.push({ line: lineAt(start), text: src.slice(start, i).trim() });
      } else {
        part += c;
      }
    }
    t.parts.push(part);
    i++;
  };
  // Code until the brace depth drops to 0 (inside ${…}) or the end; leaves i on that brace.
  const code = (depth: number): void => {
    while (i < src.length) {
      const c = src[i]!;
      if (c === '/' && src[i + 1] === '/') {
        while (i < src.length && src[i] !== '\n') i++;
      } else if (c === '/' && src[i + 1] === '*') {
        i = src.indexOf('*/', i + 2) + 2;
      } else if (c === '"' || c === "'") {
        skipString(c);
        prev = 'a';
      } else if (c === '`') {
        readTemplate();
        prev = 'a';
      } else if (
        c === '/' &&
        (prev === '' || '(,=:[!&|?{};+-*%<>~^'.includes(prev) || /\b(return|typeof|case|in|of)\s*$/.test(src.slice(Math.max(0, i - 8), i)))
      ) {
        skipRegex();
        prev = 'a';
      } else {
        if (c === '{') depth++;
        if (c === '}' && --depth === 0) return;
        if (!/\s/.test(c)) prev = c;
        i++;
      }
    }
  };
  code(Number.POSITIVE_INFINITY);
  return out;
}

function sqlInterpolations(): { templates: number; found: Interpolation[] } {
  const found: Interpolation[] = [];
  let count = 0;
  for (const file of tsFiles(SRC)) {
    const rel = relative(SRC, file);
    if (rel.startsWith('flink/') || rel.startsWith('rules/')) continue;
    for (const t of templates(readFileSync(file, 'utf8'))) {
      if (t.tagged || !SQL.test(t.parts.join(' '))) continue;
      count++;
      for (const e of t.exprs) found.push({ file: rel, line: e.line, expr: e.text });
    }
  }
  return { templates: count, found };
}

describe('SQL is parameterized', () => {
  const { templates: sqlTemplates, found } = sqlInterpolations();

  it('the scan sees the SQL the project sends', () => {
    // The API's queries, the store's COPY and the migrations' database creation at least.
    expect(sqlTemplates).toBeGreaterThan(8);
    expect(found.some((f) => f.file === 'server/api-queries.ts')).toBe(true);
    expect(found.some((f) => f.file.startsWith('store/') && f.expr === 'target')).toBe(true);
  });

  it('the lexer finds templates and their expressions, past comments, strings and regular expressions', () => {
    const src = [
      'const a = /[`\'"]/g; // a `comment`',
      "/* `x ${y}` */ const b = 'it\\'s `' + \"`\";",
      'const q = `SELECT ${cols} FROM t WHERE id = ${`$${n}`} AND x = ${f({ a: 1 })}`;',
      'const d = 4 / 2 / 1;',
    ].join('\n');
    const ts = templates(src);
    expect(ts.map((t) => t.exprs.map((e) => e.text))).toEqual([['cols', '`$${n}`', 'f({ a: 1 })'], ['n']]);
    expect(templates('const r = sql`SELECT ${x}`;')[0]!.tagged).toBe(true);
    expect(ts[0]!.parts[0]).toBe('SELECT ');
  });

  it('every ${…} inside SQL text is a fixed fragment, never data', () => {
    const unexplained = found.filter((f) => !Object.hasOwn(ALLOWED, f.expr)).map((f) => `${f.file}:${f.line}: \${${f.expr}}`);
    expect(unexplained).toEqual([]);
  });
});
