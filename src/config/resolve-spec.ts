import { readFileSync } from 'node:fs';
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
  // The spec is these settings' file layer, so only flags and the environment override it.
  const over: Layers = { ...layers, file: undefined };
  for (const key of SPEC_KEYS) {
    const decl = SETTINGS[key] as { spec: readonly string[] };
    const value = resolveSetting(key, over);
    if (value !== undefined) setPath(spec, decl.spec, value);
  }
  const r = parseSpec(spec);
  if (!r.ok) throw new TickflowError('bad_config', `spec: ${r.errors[0]}`);
  return r.spec;
}

function setPath(obj: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let at = obj;
  for (const part of path.slice(0, -1)) {
    const next = at[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) at[part] = {};
    at = at[part] as Record<string, unknown>;
  }
  at[path.at(-1)!] = value;
}

/** The spec default of a spec setting, for --help. */
export function specDefault(path: readonly string[], spec: PipelineSpec): unknown {
  let at: unknown = spec;
  for (const part of path) at = (at as Record<string, unknown>)[part];
  return at;
}
