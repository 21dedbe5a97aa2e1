import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { UsageError } from './usage-error.ts';

/**
 * Optional JSON config (`--config FILE`, or ./tickflow.config.json when present). Lowest
 * precedence: flags > environment > this file > defaults.
 */
export const configFileSchema = z
  .object({
    db: z.string().min(1).optional(),
    source: z.string().min(1).optional(),
    rate: z.union([z.number().int().positive(), z.literal('max')]).optional(),
    seed: z.number().int().optional(),
    tickers: z.array(z.string()).min(1).optional(),
    /** A pipeline spec (see `tickflow spec`); validated against the spec schema. */
    spec: z.record(z.string(), z.unknown()).optional(),
    dashboard: z
      .object({ port: z.number().int().min(0).max(65535).optional(), host: z.string().optional() })
      .strict()
      .optional(),
    kafka: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type ConfigFile = z.infer<typeof configFileSchema>;

export const DEFAULT_CONFIG_FILE = 'tickflow.config.json';

export function loadConfigFile(path: string | undefined): ConfigFile {
  const file = path ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (file === undefined) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--config: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--config: ${file} is not valid JSON (${(e as Error).message})`);
  }
  const r = configFileSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new UsageError(`config ${file}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}
