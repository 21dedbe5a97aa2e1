import { readFileSync } from 'node:fs';
import { rulesList } from '../rules/rules-schema.ts';
import { parseSpec, type PipelineSpec } from '../spec/spec.ts';
import { TickflowError } from '../tickflow-error.ts';
import { type Layers, resolveSetting } from './resolve.ts';
import { SETTINGS, type SettingKey } from './settings.ts';

/** The settings that override one field of the pipeline spec. */
export const SPEC_KEYS = (Object.keys(SETTINGS) as SettingKey[]).filter((k) => 'spec' in SETTINGS[k]);

/**
 * The effective pipeline spec: --spec FILE (or TICKFLOW_SPEC), else the config file's "spec",
 * else the defaults; then each spec setting given as a flag or in the environment.
 */
export function resolveSpec(layers: Layers): PipelineSpec {
  const path = resolveSetting('specFile', { ...layers, file: undefined });
  let base: unknown = layers.file?.spec ?? {};
  if (path !== undefined) {
    try {
      base = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new TickflowError('bad_config', `--spec: cannot read ${path} as JSON (${why})`);
    }
  }
  const spec = structuredClone(base) as Record<string, unknown>;
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new TickflowError('bad_config', 'spec: must be a JSON object');
  const rulesPath = resolveSetting('rulesFile', layers);
  if (rulesPath !== undefined) spec.rules = readRulesFile(rulesPath);
  // Flags such as --threshold name a rule: the rules as a list (older specs' form read as one).
  spec.rules = rulesList(spec.rules);
  // The spec is these settings' file layer, so only flags and the environment override it.
  const over: Layers = { ...layers, file: undefined };
  for (const key of SPEC_KEYS) {
    const decl = SETTINGS[key] as { spec: readonly string[] };
    const value = resolveSetting(key, over);
    if (value !== undefined) setPath(spec, decl.spec, value, key);
  }
  const r = parseSpec(spec);
  if (!r.ok) {
    const first = r.errors[0]!;
    throw new TickflowError('bad_config', first.startsWith('rules') && rulesPath !== undefined ? `--rules ${rulesPath}: ${first}` : `spec: ${first}`);
  }
  return r.spec;
}

/**
 * Sets a spec field; in a list, a part selects the element of that name (`rules`, `large`,
 * `threshold`: the threshold of the rule named "large").
 */
function setPath(obj: Record<string, unknown>, path: readonly string[], value: unknown, key: SettingKey): void {
  let at = obj;
  for (const part of path.slice(0, -1)) {
    if (Array.isArray(at)) {
      const named = (at as unknown[]).find((e) => typeof e === 'object' && e !== null && (e as { name?: unknown }).name === part);
      if (named === undefined) throw new TickflowError('bad_flag', `${(SETTINGS[key] as { flag?: string }).flag?.split(' ')[0] ?? key}: there is no rule named "${part}" in the rules (it sets that rule's ${path.at(-1)})`);
      at = named as Record<string, unknown>;
      continue;
    }
    const next = at[part];
    if (Array.isArray(next)) {
      at = next as unknown as Record<string, unknown>;
      continue;
    }
    if (typeof next !== 'object' || next === null || Array.isArray(next)) at[part] = {};
    at = at[part] as Record<string, unknown>;
  }
  at[path.at(-1)!] = value;
}

/** The spec default of a spec setting, for --help. */
export function specDefault(path: readonly string[], spec: PipelineSpec): unknown {
  let at: unknown = spec;
  for (const part of path) at = Array.isArray(at) ? at.find((e: { name?: string }) => e.name === part) : (at as Record<string, unknown> | undefined)?.[part];
  return at;
}

/** A rules file: {"rules": [ … ]} (a bare list is taken too). */
export function readRulesFile(path: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new TickflowError('bad_config', `--rules: cannot read ${path} as JSON (${why})`);
  }
  if (Array.isArray(parsed)) return parsed;
  if (typeof parsed === 'object' && parsed !== null && 'rules' in parsed) {
    const extra = Object.keys(parsed).filter((k) => k !== 'rules');
    if (extra.length > 0) throw new TickflowError('bad_config', `--rules: ${path}: unknown key ${JSON.stringify(extra[0])} (the file holds {"rules": [ … ]})`);
    return (parsed as { rules: unknown }).rules;
  }
  throw new TickflowError('bad_config', `--rules: ${path}: expected {"rules": [ … ]}`);
}
