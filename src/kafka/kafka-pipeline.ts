import type { Engine } from '../engine/engine.ts';
import type { RunParticipant } from '../pipeline/participant.ts';
import type { PipelineSpec } from '../spec/spec.ts';
import { PartitionCheckpoints } from './checkpoints/partition-checkpoints.ts';
import type { KafkaSettings } from './config.ts';
import { closeQuietly, connectAdmin } from './connect.ts';
import { KafkaSource } from './kafka-source.ts';
import { OutputPublisher } from './output-publisher.ts';
import { ensureTopics, pipelineTopics } from './topics.ts';

export interface KafkaPipelineOptions {
  settings: KafkaSettings;
  spec: PipelineSpec;
  groupId: string;
  exitAtEnd?: boolean;
  onWarning?: (line: string) => void;
}

/**
 * `run --source kafka`: a consumer-group member (the source) feeding an engine whose state is
 * checkpointed per partition with every stored batch, and whose alerts and dead letters are
 * published to their topics. The run takes `participants` (checkpoints, then publishing);
 * disposing of the pipeline closes the consumer and the producer.
 */
export interface KafkaPipeline extends AsyncDisposable {
  readonly source: KafkaSource;
  readonly engine: Engine;
  readonly participants: readonly RunParticipant[];
}

export async function openKafkaPipeline(o: KafkaPipelineOptions): Promise<KafkaPipeline> {
  const { settings, spec } = o;
  // Alerts and dead-letter topics are ours to create; the input topic must already exist
  // (a typo there should fail, not quietly create an empty topic).
  const admin = await connectAdmin(settings, '--source kafka');
  try {
    const [, alerts, dlq] = pipelineTopics({
      input: spec.input.topic,
      partitions: spec.input.partitions,
      alerts: spec.topics.alerts,
      deadLetters: spec.topics.deadLetters,
    });
    await ensureTopics(admin, [alerts!, dlq!]);
  } finally {
    await closeQuietly(admin);
  }
  const warn = o.onWarning;
  const checkpoints = new PartitionCheckpoints({ spec, groupId: o.groupId, ...(warn ? { onWarning: warn } : {}) });
  const source = new KafkaSource({
    settings,
    topic: spec.input.topic,
    groupId: o.groupId,
    maxRecordBytes: spec.input.maxRecordBytes,
    exitAtEnd: o.exitAtEnd ?? false,
    alignIdleMs: Math.min(500, spec.input.idleTimeoutMs || 500),
    // Well under the engine's idle timeout: a record the merge holds back has not reached the
    // engine, and must get there before its partition could be judged idle.
    idleTimeoutMs: Math.max(1, Math.floor((spec.input.idleTimeoutMs || 10_000) / 2)),
    owner: checkpoints,
    ...(warn ? { onWarning: warn } : {}),
  });
  const publisher = await OutputPublisher.connect(settings, spec.topics, warn);
  try {
    await source.open();
  } catch (e) {
    await publisher[Symbol.asyncDispose]();
    throw e;
  }
  return {
    source,
    engine: checkpoints.engine,
    participants: [checkpoints, publisher],
    async [Symbol.asyncDispose]() {
      await publisher[Symbol.asyncDispose]();
      await source.close();
    },
  };
}
