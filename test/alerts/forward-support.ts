/**
 * Shared by the forwarder's tests: the alert endpoint (test/support/alert-endpoint.ts), alerts
 * as the engines publish them, and the forwarder as a user starts it.
 */
import { Admin, Producer } from '@platformatic/kafka';
import { Endpoint } from '../support/alert-endpoint.ts';
import { type CliResult, TickflowProcess } from '../support/cli.ts';
import { uniqueName } from '../support/stack.ts';
import { waitFor } from '../support/wait.ts';
import { BROKERS, committedTotal, endOffsetsTotal } from '../kafka/kafka-support.ts';

export { Endpoint, type Request } from '../support/alert-endpoint.ts';

const endpoints: Endpoint[] = [];
const forwarders: TickflowProcess[] = [];

/** For afterAll: kills the forwarders and closes the endpoints the helpers started. */
export async function cleanUp(): Promise<void> {
  await Promise.all(forwarders.splice(0).map((f) => f.stop('SIGKILL')));
  await Promise.all(endpoints.splice(0).map((e) => e.stop()));
}

export async function endpoint(): Promise<Endpoint> {
  const e = await new Endpoint().start();
  endpoints.push(e);
  return e;
}

export function forwarder(topic: string, group: string, to: string, extra: string[] = []): TickflowProcess {
  const f = new TickflowProcess([
    'alerts',
    'forward',
    '--brokers',
    BROKERS,
    '--alerts-topic',
    topic,
    '--group',
    group,
    '--to',
    to,
    '--from-beginning',
    ...extra,
  ]);
  forwarders.push(f);
  return f;
}

export async function alertsTopic(partitions: number): Promise<string> {
  const topic = uniqueName('fwd_alerts');
  const admin = new Admin({ clientId: 'tickflow-test-forward', bootstrapBrokers: [BROKERS] });
  try {
    await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
  } finally {
    await admin.close();
  }
  return topic;
}

export type Kind = 'large_trade' | 'volume_spike';

export function alert(id: string, ticker = 'AAPL', kind: Kind = 'large_trade'): Record<string, unknown> {
  const base = {
    alert_id: `${kind === 'large_trade' ? 'large' : 'spike'}:${id}`,
    kind,
    trade_id: id,
    ticker,
    price: '187.2300',
    volume: 2_500_000,
    trade_timestamp: '2026-11-25T10:00:00.000Z',
  };
  const rule = kind === 'large_trade' ? { threshold: 1_000_000 } : { baseline_mean: '120000.0000', factor: 10, lookback: 50 };
  const message = kind === 'large_trade' ? `Large trade detected for ${ticker}` : `Volume spike for ${ticker}`;
  return { ...base, ...rule, detected_at: '2026-11-25T10:00:00.120Z', message };
}

/** Publishes alerts as an engine does (key = ticker), round-robin over the partitions; returns the exact strings. */
export async function publish(topic: string, alerts: Record<string, unknown>[], partitions = 1): Promise<string[]> {
  const producer = new Producer({ clientId: 'tickflow-test-forward', bootstrapBrokers: [BROKERS] });
  const values = alerts.map((a) => JSON.stringify(a));
  try {
    await producer.send({
      messages: values.map((value, i) => ({ topic, partition: i % partitions, key: Buffer.from(String(alerts[i]!.ticker)), value: Buffer.from(value) })),
    });
  } finally {
    await producer.close();
  }
  return values;
}

export const ids = (alerts: Record<string, unknown>[]): string[] => alerts.map((a) => String(a.alert_id));
export const sorted = (xs: string[]): string[] => [...xs].sort();

export async function delivered(e: Endpoint, expected: string[], f: TickflowProcess, timeoutMs = 240_000): Promise<void> {
  const want = new Set(expected);
  await waitFor(
    () => {
      if (!f.running) throw new Error(`the forwarder exited: ${f.stderr}`);
      return [...want].every((id) => e.deliveredIds().includes(id));
    },
    { what: `${want.size} alerts at the endpoint`, timeoutMs, context: () => `got ${e.deliveredIds().length}; stderr:\n${f.stderr}` },
  );
}

/** SIGTERM after the group committed the whole topic: nothing delivered is left uncommitted. */
export async function stopWhenCommitted(f: TickflowProcess, group: string, topic: string): Promise<CliResult> {
  const end = await endOffsetsTotal(topic);
  await waitFor(async () => (await committedTotal(group, topic)) >= end, {
    what: `group ${group} to commit ${end} records`,
    timeoutMs: 120_000,
    context: () => f.stderr,
  });
  return f.stop('SIGTERM');
}
