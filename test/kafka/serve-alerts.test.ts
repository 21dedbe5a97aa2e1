import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SseReader } from '../server/helpers.ts';
import { tickflow, TickflowProcess } from '../support/cli.ts';
import { freshDatabase } from '../support/postgres.ts';
import { createTopic, produceLines, uniqueName } from '../support/stack.ts';
import { waitFor } from '../support/wait.ts';
import { BROKERS } from './kafka-support.ts';

let pg: { url: string; drop: () => Promise<void> };
let serve: TickflowProcess | null = null;

beforeAll(async () => {
  pg = await freshDatabase();
});
afterAll(async () => {
  await serve?.stop('SIGTERM');
  await pg?.drop();
});

const alertOf = (id: string) => ({
  alert_id: `large:${id}`,
  kind: 'large_trade',
  trade_id: id,
  ticker: 'NVDA',
  price: '123.4500',
  volume: 2_500_000,
  trade_timestamp: '2026-11-25T10:00:00.000Z',
  threshold: 1_000_000,
  detected_at: '2026-11-25T10:00:00.100Z',
  message: 'Large trade detected for NVDA',
});

describe('tickflow serve --brokers', () => {
  it('streams an alert published on the alerts topic by another client, once', async () => {
    const topic = uniqueName('serve_alerts');
    await createTopic(topic);
    serve = new TickflowProcess(['serve', '--db', pg.url, '--brokers', BROKERS, '--alerts-topic', topic, '--port', '0']);
    const stream = new SseReader(`${await serve.dashboardUrl()}/api/stream`);
    const streamed = (id: string) => stream.of('alert').filter((a) => (a as { alert_id: string }).alert_id === `large:${id}`);
    try {
      // The page is open and the server reads the topic before the alert exists: a first
      // alert, sent until it shows (the server starts reading at the topic's end).
      await waitFor(
        async () => {
          if (streamed('serve-ready').length > 0) return true;
          await produceLines(topic, [JSON.stringify(alertOf('serve-ready'))]);
          return streamed('serve-ready').length > 0;
        },
        { what: 'the server to stream alerts from the topic', timeoutMs: 120_000, everyMs: 1_000 },
      );
      // Kafka's own console producer, twice: an at-least-once replay is shown once. The topic
      // has one partition, so once the alert after them is streamed, both copies were read.
      const alert = alertOf('serve-test-1');
      await produceLines(topic, [JSON.stringify(alert), JSON.stringify(alert), JSON.stringify(alertOf('serve-after'))]);
      await waitFor(() => streamed('serve-after').length > 0, { what: 'the alert after the replayed one', timeoutMs: 60_000 });
      // An older producer's alert (no rule or severity): the rule from its alert_id, the default
      // severity, and every kind's detail field spelled out (null where it has none).
      const details = {
        amount: null,
        notional: null,
        baseline_mean: null,
        factor: null,
        lookback: null,
        reference_price: null,
        change_percent: null,
        window_seconds: null,
      };
      expect(streamed('serve-test-1')).toEqual([{ ...alert, ...details, rule: 'large', severity: 'warning' }]);
    } finally {
      await stream.stop();
    }
  });

  it('refuses an alerts topic that does not exist, in one line', async () => {
    const r = await tickflow(['serve', '--db', pg.url, '--brokers', BROKERS, '--alerts-topic', uniqueName('missing'), '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('does not exist');
  });
});
