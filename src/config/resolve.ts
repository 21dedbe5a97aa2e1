import { TickflowError } from '../tickflow-error.ts';
import type { ConfigFile } from './config-file.ts';
import { type Resolved, SETTINGS, type Setting, type SettingKey } from './settings.ts';

/** The layers a value can come from, highest precedence first. */
export interface Layers {
  /** Flags the user typed, as text, by setting key. */
  readonly flags?: Readonly<Partial<Record<SettingKey, string | undefined>>>;
  readonly env?: NodeJS.ProcessEnv;
  readonly file?: ConfigFile;
}

/** Where a value came from, for messages and `tickflow spec`-like listings. */
export type Origin = { kind: 'flag'; name: string } | { kind: 'env'; name: string } | { kind: 'file'; name: string } | { kind: 'default' };

/** The raw text of a setting and its origin; undefined when no layer sets it. */
export function rawSetting(key: SettingKey, layers: Layers): { text: string; origin: Origin } | undefined {
  const s: Setting<unknown> = SETTINGS[key];
  const flag = layers.flags?.[key];
  if (flag !== undefined && s.flag !== undefined) return { text: flag, origin: { kind: 'flag', name: s.flag.split(' ')[0]! } };
  for (const name of s.env ?? []) {
    const v = layers.env?.[name];
    if (v !== undefined && v !== '') return { text: v, origin: { kind: 'env', name } };
  }
  if (s.file !== undefined && layers.file !== undefined) {
    const v = layers.file.values.get(s.file);
    if (v !== undefined) return { text: v, origin: { kind: 'file', name: `${layers.file.path}: ${s.file}` } };
  }
  return undefined;
}

/** flag > environment > config file > default, parsed and validated. */
export function resolveSetting<K extends SettingKey>(key: K, layers: Layers): Resolved<K> {
  const s: Setting<unknown> = SETTINGS[key];
  const raw = rawSetting(key, layers);
  if (raw === undefined) {
    const d = s.default;
    return (typeof d === 'function' ? (d as (env: NodeJS.ProcessEnv) => unknown)(layers.env ?? {}) : d) as Resolved<K>;
  }
  const parse = raw.origin.kind === 'flag' ? s.parse : (s.parseStored ?? s.parse);
  try {
    return parse(raw.text) as Resolved<K>;
  } catch (e) {
    const problem = e instanceof TickflowError ? e.message : String(e);
    const where = raw.origin.kind === 'default' ? key : raw.origin.kind === 'file' ? `config ${raw.origin.name}` : raw.origin.name;
    const shown = s.secret === true ? 'value' : `"${raw.text.slice(0, 80)}"`;
    throw new TickflowError(raw.origin.kind === 'flag' ? 'bad_flag' : 'bad_config', `${where}: ${shown} ${problem}`);
  }
}

export function resolveSettings<const K extends SettingKey>(keys: readonly K[], layers: Layers): { [P in K]: Resolved<P> } {
  const out = {} as { [P in K]: Resolved<P> };
  for (const k of keys) out[k] = resolveSetting(k, layers);
  return out;
}
