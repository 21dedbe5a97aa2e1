import type { PipelineSpec } from '../../spec/spec.ts';
import type { FlinkTarget } from '../compile-spec.ts';

/** The session's SET statements: time zone, checkpointing, restarts, state TTL, tuning. */
export function jobSettings(spec: PipelineSpec, target: FlinkTarget): Array<[string, string]> {
  const settings: Array<[string, string]> = [
    // Windows align and TIMESTAMP columns convert in this zone; the JVMs run in UTC as well.
    ['table.local-time-zone', 'UTC'],
    ['pipeline.name', target.jobName],
    ['parallelism.default', String(target.parallelism)],
    ['execution.checkpointing.interval', `${spec.delivery.checkpointIntervalMs}ms`],
    ['execution.checkpointing.mode', 'EXACTLY_ONCE'],
    ['execution.checkpointing.externalized-checkpoint-retention', 'RETAIN_ON_CANCELLATION'],
    ['execution.checkpointing.timeout', '2min'],
    ['restart-strategy.type', 'exponential-delay'],
    ['restart-strategy.exponential-delay.initial-backoff', '1s'],
    ['restart-strategy.exponential-delay.max-backoff', '10s'],
    // A partition without records must not hold the watermark back, or windows never close.
    ['table.exec.source.idle-timeout', `${spec.input.idleTimeoutMs}ms`],
    // The dedupe horizon. Flink SQL has one state TTL per job (processing time), see docs/flink.md.
    ['table.exec.state.ttl', `${spec.dedupe.horizonMs}ms`],
    // Inputs to the upsert sinks are append-only; no need for the materializer's state.
    ['table.exec.sink.upsert-materialize', 'NONE'],
    // Views read by several INSERTs (the parsed records, the deduplicated trades) become one
    // operator each instead of one copy per reader: one parse per record and one Deduplicate
    // (three before, each with its own shuffle and trade_id state).
    ['table.optimizer.reuse-optimize-block-with-digest-enabled', 'true'],
    // Chained operators hand records on without a deep copy at every step; the SQL operators
    // copy what they keep in state, and the parser function copies the bytes it memoises.
    ['pipeline.object-reuse', 'true'],
  ];
  if (target.checkpointDir !== undefined) settings.push(['execution.checkpointing.dir', target.checkpointDir]);
  if (target.fromSavepoint !== undefined) settings.push(['execution.state-recovery.path', target.fromSavepoint]);
  return settings;
}
