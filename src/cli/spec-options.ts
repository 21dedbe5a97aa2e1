import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { parseSpec, type PipelineSpec } from '../spec/spec.ts';
import type { ConfigFile } from './config-file.ts';
import { intFlag, numberFlag, secondsFlag } from './parse-flags.ts';
import { UsageError } from './usage-error.ts';

/** Flags that override single fields of the pipeline spec; shared by run, spec and flink. */
export function specOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--spec <file>', 'pipeline spec JSON (see `tickflow spec`)').env('TICKFLOW_SPEC'))
    .addOption(
      new Option('--threshold <n>', 'large-trade alert when volume > n (default 1000000)')
        .argParser(intFlag('--threshold', 0, 2_147_483_647))
        .env('TICKFLOW_THRESHOLD'),
    )
    .addOption(
      new Option('--spike-factor <k>', 'volume-spike alert when volume > k × recent mean (default 10)').argParser(
        numberFlag('--spike-factor', 1, 1000),
      ),
    )
    .addOption(
      new Option('--spike-lookback <n>', 'trades in the volume-spike baseline (default 50)').argParser(
        intFlag('--spike-lookback', 1, 10_000),
      ),
    )
    .addOption(
      new Option('--out-of-orderness <seconds>', 'how late a trade may arrive and still count (default 5)').argParser(
        secondsFlag('--out-of-orderness'),
      ),
    )
    .addOption(
      new Option('--candle-interval <seconds>', 'candle length (default 60)').argParser(secondsFlag('--candle-interval')),
    )
    .addOption(new Option('--topic <name>', 'input topic (default trades; the seed used sensors)').env('TICKFLOW_TOPIC'));
}

export function resolveSpec(cmd: Command, file: ConfigFile): PipelineSpec {
  const o = cmd.opts<{
    spec?: string;
    threshold?: number;
    spikeFactor?: number;
    spikeLookback?: number;
    outOfOrderness?: number;
    candleInterval?: number;
    topic?: string;
  }>();
  let base: Record<string, unknown> = (file.spec as Record<string, unknown> | undefined) ?? {};
  if (o.spec !== undefined) {
    try {
      base = JSON.parse(readFileSync(o.spec, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new UsageError(`--spec: cannot read ${o.spec}: ${(e as Error).message}`);
    }
  }
  const spec = structuredClone(base) as Record<string, Record<string, unknown>>;
  const section = (k: string): Record<string, unknown> => {
    const v = spec[k];
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v;
    return (spec[k] = {});
  };
  const rules = (k: string): Record<string, unknown> => {
    const r = section('rules');
    const v = r[k];
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    return (r[k] = {}) as Record<string, unknown>;
  };
  if (o.threshold !== undefined) rules('largeTrade').threshold = o.threshold;
  if (o.spikeFactor !== undefined) rules('volumeSpike').factor = o.spikeFactor;
  if (o.spikeLookback !== undefined) rules('volumeSpike').lookback = o.spikeLookback;
  if (o.outOfOrderness !== undefined) section('input').outOfOrdernessMs = o.outOfOrderness;
  if (o.candleInterval !== undefined) section('candles').intervalMs = o.candleInterval;
  if (o.topic !== undefined) section('input').topic = o.topic;
  const r = parseSpec(spec);
  if (!r.ok) throw new UsageError(`spec: ${r.errors[0]}`);
  return r.spec;
}
