import { type Command, Option } from 'commander';
import { type ConfigFile, loadConfigFile } from '../config/config-file.ts';
import { type Layers, resolveSetting, resolveSettings } from '../config/resolve.ts';
import { resolveSpec, specDefault } from '../config/resolve-spec.ts';
import { type Resolved, SETTINGS, type Setting, type SettingKey } from '../config/settings.ts';
import { defaultSpec, type PipelineSpec } from '../spec/spec.ts';

/**
 * Commander meets the settings registry (src/config/settings.ts): options are generated from
 * the declarations, and values are resolved there — commander only collects what was typed, so
 * precedence lives in one place and --help shows each default once, with its variables.
 */
const declared = new WeakMap<Command, Map<SettingKey, string>>();
const layers = new WeakMap<Command, Layers>();

export function addSettings(cmd: Command, keys: readonly SettingKey[]): Command {
  const attrs = declared.get(cmd) ?? new Map<SettingKey, string>();
  declared.set(cmd, attrs);
  for (const key of keys) {
    const s: Setting<unknown> = SETTINGS[key];
    if (s.flag === undefined) throw new Error(`setting ${key} has no flag`);
    const option = new Option(s.flag, describe(s));
    attrs.set(key, option.attributeName());
    cmd.addOption(option);
  }
  return cmd;
}

/** "help (default X; env A, B)": the one place a setting's default and variables are shown. */
export function describe(s: Setting<unknown>): string {
  const notes: string[] = [];
  const d = defaultText(s);
  if (d !== undefined) notes.push(`default ${d}`);
  if (s.env !== undefined && s.env.length > 0) notes.push(`env ${s.env.join(', ')}`);
  if (s.spec !== undefined) notes.push(`spec ${s.spec.join('.')}`);
  else if (s.file !== undefined) notes.push(`config ${s.file}`);
  return notes.length === 0 ? s.help : `${s.help} (${notes.join('; ')})`;
}

function defaultText(s: Setting<unknown>): string | undefined {
  if (s.defaultText !== undefined) return s.defaultText;
  if (s.spec !== undefined) {
    const v = specDefault(s.spec, defaultSpec());
    // Spec durations are milliseconds; their flags take seconds.
    return s.spec.at(-1)!.endsWith('Ms') && typeof v === 'number' ? String(v / 1000) : String(v);
  }
  if (s.default === undefined || typeof s.default === 'function') return undefined;
  return Array.isArray(s.default) ? s.default.join(',') : String(s.default);
}

/** Flags typed on this command's line, environment, config file (--config / TICKFLOW_CONFIG). */
export function layersOf(cmd: Command): Layers {
  const cached = layers.get(cmd);
  if (cached !== undefined) return cached;
  const flags: Partial<Record<SettingKey, string>> = {};
  for (const [key, attr] of declared.get(cmd) ?? []) {
    if (cmd.getOptionValueSource(attr) === 'cli') flags[key] = String(cmd.getOptionValue(attr));
  }
  const base: Layers = { flags, env: process.env };
  const file: ConfigFile = loadConfigFile(resolveSetting('config', base));
  const result = { ...base, file };
  layers.set(cmd, result);
  return result;
}

export function settingsOf<const K extends SettingKey>(cmd: Command, keys: readonly K[]): { [P in K]: Resolved<P> } {
  return resolveSettings(keys, layersOf(cmd));
}

export function specOf(cmd: Command): PipelineSpec {
  return resolveSpec(layersOf(cmd));
}

/** The settings that name the pipeline's topics and spec: every command that uses a topic takes them. */
export const SPEC_SOURCE_KEYS = ['config', 'specFile'] as const satisfies readonly SettingKey[];
export const SPEC_OVERRIDE_KEYS = [
  'threshold',
  'spikeFactor',
  'spikeLookback',
  'outOfOrderness',
  'candleInterval',
  'topic',
  'alertsTopic',
  'dlqTopic',
] as const satisfies readonly SettingKey[];
