import { setTimeout as sleep } from 'node:timers/promises';
import { Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import { parseAlertJson } from '../../kafka/alert-json.ts';
import { clientOptions, type KafkaSettings } from '../../kafka/config.ts';
import { closeQuietly, ensureReachable } from '../../kafka/connect.ts';
import { describeKafkaError, isKafkaOutage, topicMissing, unavailable } from '../../kafka/errors.ts';
import { TickflowError } from '../../tickflow-error.ts';
import { type ForwardItem, Forwarder, type ForwarderOptions, type ForwardStats } from './forwarder.ts';
import { describeTarget } from './target.ts';

export interface TopicForwardOptions {
  readonly settings: KafkaSettings;
  readonly topic: string;
  /** The consumer group whose committed offsets are the forwarder's position. */
  readonly groupId: string;
  /** Where a group with no committed offset starts: the oldest alert kept, or new alerts only. */
  readonly fromBeginning: boolean;
  readonly forward: Omit<ForwarderOptions<Position>, 'onSettled' | 'log'>;
  readonly log: (line: string) => void;
  /** Aborted on SIGINT/SIGTERM: finish the message in flight, commit, return. */
  readonly signal: AbortSignal;
  /** After the first connect, how long a lost broker is waited for. */
  readonly maxBrokerOutageMs?: number;
}

interface Position {
  readonly partition: number;
  readonly offset: bigint;
  readonly leaderEpoch: number;
}

type Msg = Message<Buffer, Buffer, Buffer, Buffer>;

const COMMIT_TIMEOUT_MS = 10_000;

/**
 * `tickflow alerts forward`: the alerts topic → a Forwarder. The position is the consumer
 * group's committed offsets, committed only for alerts the Forwarder has settled (delivered,
 * refused, a replay, or named in a delivered summary), after each message and before the next
 * is sent: a restart resumes after the last settled alert, and a kill -9 can repeat at most
 * the message that was in flight. Reading stops while the Forwarder's queue is full, so a dead
 * endpoint holds memory to the queue plus one fetch.
 */
export async function forwardTopic(o: TopicForwardOptions): Promise<ForwardStats> {
  const positions = new Map<number, { topic: string; partition: number; offset: bigint; leaderEpoch: number }>();
  let dirty = false;
  let consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | null = null;
  let commitWarned = false;

  const commit = async (): Promise<void> => {
    const c = consumer;
    if (!dirty || c === null) return;
    dirty = false;
    try {
      await withTimeout(c.commit({ offsets: [...positions.values()] }), COMMIT_TIMEOUT_MS, 'the offset commit timed out');
      if (commitWarned) o.log('forward: offsets committed again');
      commitWarned = false;
    } catch (e) {
      dirty = true;
      if (!commitWarned)
        o.log(`forward: offset commit failed (${describeKafkaError(e)}); retried with the next alert — until then a kill -9 repeats what was sent since`);
      commitWarned = true;
    }
  };

  const forwarder = new Forwarder<Position>({
    ...o.forward,
    log: o.log,
    onSettled: async (items: readonly ForwardItem<Position>[]) => {
      for (const { position: p } of items) {
        if (p === undefined) continue;
        const next = p.offset + 1n;
        // A record read again after a reconnect settles behind the original: never move back.
        if ((positions.get(p.partition)?.offset ?? -1n) >= next) continue;
        positions.set(p.partition, { topic: o.topic, partition: p.partition, offset: next, leaderEpoch: p.leaderEpoch });
        dirty = true;
      }
      await commit();
    },
  });

  const stopped = new Promise<'stop'>((resolve) => {
    if (o.signal.aborted) resolve('stop');
    o.signal.addEventListener('abort', () => resolve('stop'), { once: true });
    forwarder.done.then(
      () => resolve('stop'),
      () => resolve('stop'),
    );
  });

  let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | null = null;
  const connect = async (first: boolean): Promise<void> => {
    const c = new Consumer<Buffer, Buffer, Buffer, Buffer>({
      ...clientOptions(o.settings, 'alerts-forward'),
      groupId: o.groupId,
      autocommit: false,
      sessionTimeout: 10_000,
      rebalanceTimeout: 15_000,
      heartbeatInterval: 1_000,
      maxWaitTime: 500,
    });
    try {
      await ensureReachable(c, o.settings, 'alerts forward');
      const meta = await c.metadata({ topics: [o.topic], autocreateTopics: false }).catch(() => null);
      if (meta === null || !meta.topics.has(o.topic)) throw topicMissing(o.topic);
      // A broker whose group coordinator is still loading (a fresh broker creates its offsets
      // topic on the first group) answers "not the coordinator" for a few seconds: wait for it.
      const started = Date.now();
      for (;;) {
        try {
          stream = await withTimeout(
            c.consume({
              topics: [o.topic],
              mode: 'committed',
              fallbackMode: o.fromBeginning ? 'earliest' : 'latest',
              autocommit: false,
              // Few records wait here: the Forwarder's queue is the buffer that counts.
              highWaterMark: 256,
            }),
            o.settings.connectTimeoutMs + 10_000,
            'joining the consumer group timed out',
          );
          break;
        } catch (e) {
          if (!isKafkaOutage(e) || Date.now() - started > o.settings.connectTimeoutMs + 30_000 || o.signal.aborted) {
            throw first ? unavailable(o.settings, 'alerts forward', e) : e;
          }
          await sleep(500);
        }
      }
      consumer = c;
    } catch (e) {
      await closeQuietly(c);
      throw e;
    }
  };

  const drop = async (): Promise<void> => {
    const s = stream;
    const c = consumer;
    stream = null;
    consumer = null;
    if (s !== null) await withTimeout(s.close(), 5_000, 'close timed out').catch(() => {});
    if (c !== null) await closeQuietly(c);
  };

  try {
    await connect(true);
    o.log(`forward: ${o.topic} (group ${o.groupId}) → ${describeTarget(o.forward.target)}; Ctrl-C stops after the alert in flight`);
    for (;;) {
      const reading = stream!;
      try {
        await pump(reading, forwarder, stopped, o.log);
        break;
      } catch (e) {
        if (!isKafkaOutage(e) || o.signal.aborted)
          throw new TickflowError('kafka_failed', `alerts forward: reading ${o.topic} failed (${describeKafkaError(e)})`);
        o.log(`forward: lost the broker (${describeKafkaError(e)}); reconnecting — alerts already queued keep going out`);
        await drop();
        await reconnect(() => connect(false), o);
        if (o.signal.aborted) break;
        o.log('forward: reconnected to the broker; alerts read again are dropped by alert_id');
      }
    }
    await forwarder.close();
    await commit();
    return forwarder.stats;
  } finally {
    // Failing or not, what was delivered is committed before the client goes.
    await forwarder.close().catch(() => {});
    await commit();
    await drop();
  }
}

/** Reads until stopped, offering each record in order; waits (not reading) while the queue is full. */
async function pump(
  stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>,
  forwarder: Forwarder<Position>,
  stopped: Promise<'stop'>,
  log: (line: string) => void,
): Promise<void> {
  const it = stream[Symbol.asyncIterator]();
  for (;;) {
    const pending = it.next();
    const r = await Promise.race([pending, stopped]);
    if (r === 'stop') {
      pending.catch(() => {});
      return;
    }
    if (r.done === true) return;
    const m = r.value as Msg;
    if (forwarder.space === 0 && (await Promise.race([forwarder.whenSpace(), stopped])) === 'stop') return;
    const alert = parseAlertJson(m.value ?? Buffer.alloc(0));
    const position = { partition: m.partition, offset: m.offset, leaderEpoch: m.leaderEpoch };
    if (alert === null) log(`forward: partition ${m.partition} offset ${m.offset} is not an alert (no alert_id, kind or ticker); skipped`);
    forwarder.offer([alert === null ? { alert: null, position } : { alert, raw: m.value.toString('utf8'), position }]);
  }
}

async function reconnect(connect: () => Promise<void>, o: TopicForwardOptions): Promise<void> {
  const started = Date.now();
  const maxMs = o.maxBrokerOutageMs ?? 300_000;
  for (let delay = 500; ; delay = Math.min(delay * 2, 4_000)) {
    try {
      await connect();
      return;
    } catch (e) {
      if (Date.now() - started + delay > maxMs)
        throw new TickflowError('kafka_failed', `alerts forward: the broker stayed away for ${Math.round(maxMs / 1000)} s (${describeKafkaError(e)})`);
    }
    try {
      await sleep(delay, undefined, { signal: o.signal });
    } catch {
      return;
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(what)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
