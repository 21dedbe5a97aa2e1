import { z } from 'zod';
import { rulesSchema } from '../rules/rules-schema.ts';

/**
 * The pipeline spec: plain data, the single source of truth that both engines obey
 * (docs/architecture.md#semantics). The embedded engine compiles it to operators; the Flink
 * compiler to SQL.
 */
export const pipelineSpecSchema = z
  .object({
    input: z
      .object({
        topic: z.string().min(1).default('trades'),
        partitions: z.number().int().min(1).max(1000).default(3),
        /** Event time may run this far behind the newest seen before a trade counts as late. */
        outOfOrdernessMs: z.number().int().min(0).max(3_600_000).default(5_000),
        /** A partition silent this long stops holding the watermark back (Flink idle timeout). */
        idleTimeoutMs: z.number().int().min(0).default(10_000),
        maxRecordBytes: z
          .number()
          .int()
          .min(256)
          .max(16 * 1024 * 1024)
          .default(64 * 1024),
      })
      .strict()
      .prefault({}),
    /** The alert rules (src/rules/, docs/rules.md); absent: `large` and `spike`, as before rules files. */
    rules: rulesSchema,
    candles: z
      .object({
        intervalMs: z.number().int().min(1000).max(86_400_000).default(60_000),
      })
      .strict()
      .prefault({}),
    dedupe: z
      .object({
        /** trade_ids are remembered while their event time is within this of the watermark. */
        horizonMs: z.number().int().min(0).default(600_000),
      })
      .strict()
      .prefault({}),
    delivery: z
      .object({
        alerts: z.enum(['at-least-once', 'exactly-once']).default('at-least-once'),
        checkpointIntervalMs: z.number().int().min(100).default(5_000),
      })
      .strict()
      .prefault({}),
    topics: z
      .object({
        alerts: z.string().min(1).default('alerts'),
        deadLetters: z.string().min(1).default('trades.dlq'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type PipelineSpec = z.infer<typeof pipelineSpecSchema>;
export type PipelineSpecInput = z.input<typeof pipelineSpecSchema>;

export type SpecResult = { ok: true; spec: PipelineSpec } | { ok: false; errors: string[] };

export function parseSpec(input: unknown): SpecResult {
  const r = pipelineSpecSchema.safeParse(input ?? {});
  if (r.success) return { ok: true, spec: r.data };
  return {
    ok: false,
    // Rule errors already say which rule and field (rules[2] "whale": amount: …).
    errors: r.error.issues.map((i) => (i.path[0] === 'rules' && i.path.length === 1 && i.message.startsWith('rules') ? i.message : `${i.path.length ? i.path.join('.') : 'spec'}: ${i.message}`)),
  };
}

export function defaultSpec(): PipelineSpec {
  return pipelineSpecSchema.parse({});
}

/** Merge a partial spec over the defaults (used by flags and tests); throws only on programmer error. */
export function specWith(overrides: PipelineSpecInput): PipelineSpec {
  const r = parseSpec(overrides);
  if (!r.ok) throw new Error(`invalid spec: ${r.errors.join('; ')}`);
  return r.spec;
}
