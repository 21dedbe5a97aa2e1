import { randomBytes } from 'node:crypto';
import { Consumer } from '@platformatic/kafka';
import { parseAlertJson } from '../kafka/alert-json.ts';
import { clientOptions, type KafkaSettings } from '../kafka/config.ts';
import { closeQuietly, ensureReachable } from '../kafka/connect.ts';
import { topicMissing } from '../kafka/errors.ts';
import { alertFromWire } from './live-events.ts';
import type { LiveHub } from './live-hub.ts';

/**
 * Alerts for `tickflow serve`, straight from the alerts topic: they reach the page as soon as
 * Flink or a consumer publishes them, instead of at the next table poll. A private consumer
 * group that never commits reads from the end, so serving moves nobody's offsets; an alert_id
 * seen again (an at-least-once replay) is shown once.
 */
export class AlertsTopicFeed {
  readonly #consumer: Consumer;
  readonly #seen = new Map<string, true>();
  #closed = false;
  #stream: { destroy(): void } | null = null;
  lastError: string | null = null;

  private constructor(consumer: Consumer) {
    this.#consumer = consumer;
  }

  /** Connects (bounded by the connect timeout) and starts publishing into `hub`; user errors throw. */
  static async start(settings: KafkaSettings, topic: string, hub: LiveHub): Promise<AlertsTopicFeed> {
    const consumer = new Consumer({
      ...clientOptions(settings, 'serve-alerts'),
      groupId: `tickflow-serve-${randomBytes(6).toString('hex')}`,
      autocommit: false,
    });
    const feed = new AlertsTopicFeed(consumer);
    try {
      await ensureReachable(consumer, settings, 'serve');
      const meta = await consumer.metadata({ topics: [topic], autocreateTopics: false }).catch(() => null);
      if (meta === null || !meta.topics.has(topic)) {
        throw topicMissing(topic);
      }
      const stream = await consumer.consume({ topics: [topic], mode: 'latest', autocommit: false, maxWaitTime: 250 });
      feed.#stream = stream;
      void feed.#pump(stream, hub);
      return feed;
    } catch (e) {
      await closeQuietly(consumer);
      throw e;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#stream?.destroy();
    await closeQuietly(this.#consumer);
  }

  async #pump(stream: AsyncIterable<{ value: Buffer }>, hub: LiveHub): Promise<void> {
    try {
      for await (const m of stream) {
        const a = parseAlertJson(m.value);
        if (a === null || this.#seen.has(a.alert_id)) continue;
        this.#seen.set(a.alert_id, true);
        if (this.#seen.size > 100_000) this.#seen.delete(this.#seen.keys().next().value!);
        hub.publishAlert(alertFromWire(a));
      }
    } catch (e) {
      if (!this.#closed) this.lastError = `alerts topic: ${(e as Error).message}`;
    }
  }
}
