import { existsSync, readFileSync } from 'node:fs';
import { TickflowError } from '../tickflow-error.ts';
import { SETTINGS } from './settings.ts';

/**
 * The optional JSON config file (`--config FILE`, TICKFLOW_CONFIG, or ./tickflow.config.json
 * when present): the lowest layer above the defaults. Its keys are the `file` keys declared in
 * ./settings.ts (nested objects spell the dots: {"dashboard": {"port": 3000}}), plus "spec", a
 * pipeline spec validated by the spec schema.
 */
export interface ConfigFile {
  readonly path: string;
  /** Dotted key → the value as text (arrays joined with commas), parsed later by its setting. */
  readonly values: ReadonlyMap<string, string>;
  readonly spec: Record<string, unknown> | undefined;
}

export const DEFAULT_CONFIG_FILE = 'tickflow.config.json';

const FILE_KEYS = new Set(Object.values(SETTINGS).flatMap((s) => ('file' in s && s.file !== undefined ? [s.file] : [])));

/** No file: an empty layer. `path` undefined means "the default file, if it exists". */
export function loadConfigFile(path: string | undefined): ConfigFile {
  const file = path ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (file === undefined) return { path: '(none)', values: new Map(), spec: undefined };
  let textValue: string;
  try {
    textValue = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TickflowError('bad_config', `config ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(textValue);
  } catch (e) {
    throw new TickflowError('bad_config', `config ${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(json)) throw new TickflowError('bad_config', `config ${file}: must be a JSON object`);
  const values = new Map<string, string>();
  let spec: Record<string, unknown> | undefined;
  const walk = (obj: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix + k;
      if (key === 'spec') {
        if (!isObject(v)) throw new TickflowError('bad_config', `config ${file}: spec: must be an object (a pipeline spec, see \`tickflow spec\`)`);
        spec = v;
      } else if (FILE_KEYS.has(key)) {
        values.set(key, asText(v, file, key));
      } else if (isObject(v) && [...FILE_KEYS].some((f) => f.startsWith(`${key}.`))) {
        walk(v, `${key}.`);
      } else {
        throw new TickflowError('bad_config', `config ${file}: ${key}: unknown key (known: spec, ${[...FILE_KEYS].sort().join(', ')})`);
      }
    }
  };
  walk(json, '');
  return { path: file, values, spec };
}

function asText(v: unknown, file: string, key: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join(',');
  throw new TickflowError('bad_config', `config ${file}: ${key}: must be a string, number, boolean or list of strings`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
