import { Engine } from '../engine/engine.ts';
import type { EngineOutput } from '../engine/records.ts';
import type { PipelineSpec } from '../spec/spec.ts';
import { alertToJson } from './alert-json.ts';
import type { KafkaSettings } from './config.ts';
import { closeQuietly, connectAdmin } from './connect.ts';
import { deadLetterRecord } from './dead-letter-record.ts';
import { KafkaSource, type Positions } from './kafka-source.ts';
import { BatchingProducer } from './producer.ts';
import { ensureTopics, pipelineTopics } from './topics.ts';

/**
 * The engine, marking each drained output with the source positions it covers. Every record
 * handed out before a drain has been processed by then (the pipeline processes a whole batch
 * before it flushes), so once that output's transaction commits, those positions may be
 * committed to Kafka.
 */
class PositionMarkingEngine extends Engine {
  readonly #source: KafkaSource;
  readonly #marks = new WeakMap<EngineOutput, Positions>();

  constructor(spec: PipelineSpec, source: KafkaSource) {
    super(spec);
    this.#source = source;
  }

  override drain(): EngineOutput {
    const out = super.drain();
    this.#marks.set(out, this.#source.positions());
    return out;
  }

  positionsOf(out: EngineOutput): Positions | undefined {
    return this.#marks.get(out);
  }
}

export interface KafkaPipelineOptions {
  settings: KafkaSettings;
  spec: PipelineSpec;
  groupId: string;
  exitAtEnd?: boolean;
  onWarning?: (line: string) => void;
}

/**
 * `run --source kafka`: a consumer-group member feeding the embedded engine, with alerts and
 * dead letters published to their topics. Order per stored batch (at-least-once end to end):
 *   1. the database transaction commits (PipelineRun);
 *   2. its alerts and dead letters are produced and acknowledged (acks=all);
 *   3. the input offsets are committed.
 * A crash anywhere replays from the last committed offsets: the database ignores rows it has,
 * and alerts carry a stable alert_id for consumers to dedupe.
 */
export class KafkaPipeline {
  readonly source: KafkaSource;
  readonly engine: Engine;
  readonly #engine: PositionMarkingEngine;
  readonly #producer: BatchingProducer;
  readonly #spec: PipelineSpec;
  readonly published = { alerts: 0, deadLetters: 0 };

  private constructor(source: KafkaSource, engine: PositionMarkingEngine, producer: BatchingProducer, spec: PipelineSpec) {
    this.source = source;
    this.engine = engine;
    this.#engine = engine;
    this.#producer = producer;
    this.#spec = spec;
  }

  static async open(o: KafkaPipelineOptions): Promise<KafkaPipeline> {
    const { settings, spec } = o;
    // Alerts and dead-letter topics are ours to create; the input topic must already exist
    // (a typo there should fail, not quietly create an empty topic).
    const admin = await connectAdmin(settings, '--source kafka');
    try {
      const [, alerts, dlq] = pipelineTopics({ input: spec.input.topic, partitions: spec.input.partitions, alerts: spec.topics.alerts, deadLetters: spec.topics.deadLetters });
      await ensureTopics(admin, [alerts!, dlq!]);
    } finally {
      await closeQuietly(admin);
    }
    const source = new KafkaSource({
      settings,
      topic: spec.input.topic,
      groupId: o.groupId,
      exitAtEnd: o.exitAtEnd ?? false,
      alignIdleMs: Math.min(500, spec.input.idleTimeoutMs || 500),
      idleTimeoutMs: spec.input.idleTimeoutMs || 10_000,
      ...(o.onWarning ? { onWarning: o.onWarning } : {}),
    });
    const producer = await BatchingProducer.connect(settings, {
      role: 'outputs',
      lingerMs: 1,
      ...(o.onWarning ? { onOutage: o.onWarning } : {}),
    });
    try {
      await source.open();
    } catch (e) {
      await producer.abort();
      throw e;
    }
    return new KafkaPipeline(source, new PositionMarkingEngine(spec, source), producer, spec);
  }

  /** PipelineRun's onCommitted: publish, then commit offsets (see the class comment). */
  readonly onCommitted = async (out: EngineOutput): Promise<void> => {
    const { alerts: alertsTopic, deadLetters: dlqTopic } = this.#spec.topics;
    for (const a of out.alerts) {
      await this.#producer.send({
        topic: alertsTopic,
        key: Buffer.from(a.trade.ticker),
        value: Buffer.from(JSON.stringify(alertToJson(a))),
      });
    }
    for (const d of out.deadLetters) await this.#producer.send(deadLetterRecord(d, dlqTopic));
    await this.#producer.flush();
    this.published.alerts += out.alerts.length;
    this.published.deadLetters += out.deadLetters.length;
    const positions = this.#engine.positionsOf(out);
    if (positions !== undefined) await this.source.commit(positions);
  };

  /**
   * After a clean end of the run (every batch stored): commit the position of everything read,
   * including records that produced no output (duplicates), so a restart does not re-read them.
   */
  async finish(): Promise<void> {
    await this.#producer.flush();
    await this.source.commit(this.source.positions());
  }

  async close(): Promise<void> {
    await this.#producer.close().catch(() => {});
    await this.source.close();
  }
}
