import type { EngineOutput } from '../engine/records.ts';
import type { RunParticipant } from '../pipeline/participant.ts';
import type { SqlStatement } from '../store/store.ts';
import { alertToJson } from './alert-json.ts';
import type { KafkaSettings } from './config.ts';
import { deadLetterRecord } from './dead-letter-record.ts';
import { BatchingProducer } from './producer.ts';

/**
 * A run's alerts and dead letters, published to their topics while each batch is written — in
 * batch order, one batch after the other — and the batch's transaction commits only once they
 * are acknowledged (acks=all). So no alert of a stored batch is lost; a batch replayed after a
 * crash may publish one again (same alert_id). A retried transaction waits for the same publish
 * instead of sending again.
 */
export class OutputPublisher implements RunParticipant, AsyncDisposable {
  readonly published = { alerts: 0, deadLetters: 0 };
  readonly #producer: BatchingProducer;
  readonly #alertsTopic: string;
  readonly #deadLettersTopic: string;
  /** Settles when the latest drained batch's alerts and dead letters are acknowledged. */
  #publishing: Promise<void> = Promise.resolve();

  private constructor(producer: BatchingProducer, topics: { alerts: string; deadLetters: string }) {
    this.#producer = producer;
    this.#alertsTopic = topics.alerts;
    this.#deadLettersTopic = topics.deadLetters;
  }

  static async connect(settings: KafkaSettings, topics: { alerts: string; deadLetters: string }, onWarning?: (line: string) => void): Promise<OutputPublisher> {
    const producer = await BatchingProducer.connect(settings, { role: 'outputs', lingerMs: 1, ...(onWarning ? { onOutage: onWarning } : {}) });
    return new OutputPublisher(producer, topics);
  }

  afterDrain(out: EngineOutput): () => Promise<readonly SqlStatement[]> {
    const published = this.#publishing.then(() => this.#publish(out));
    this.#publishing = published;
    published.catch(() => {});
    return async () => {
      await published;
      return [];
    };
  }

  async finish(): Promise<void> {
    await this.#publishing;
    await this.#producer.flush();
  }

  async #publish(out: EngineOutput): Promise<void> {
    if (out.alerts.length === 0 && out.deadLetters.length === 0) return;
    for (const a of out.alerts) {
      await this.#producer.send({ topic: this.#alertsTopic, key: Buffer.from(a.trade.ticker), value: Buffer.from(JSON.stringify(alertToJson(a))) });
    }
    for (const d of out.deadLetters) await this.#producer.send(deadLetterRecord(d, this.#deadLettersTopic));
    await this.#producer.flush();
    this.published.alerts += out.alerts.length;
    this.published.deadLetters += out.deadLetters.length;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#producer.close().catch(() => {});
  }
}
