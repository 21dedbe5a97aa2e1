import { randomBytes } from 'node:crypto';
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
/** Alert ids read back before the stored position at start, per partition at most. */
const WARM_IDS = 100_000;
const WARM_TIMEOUT_MS = 30_000;

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
      if (first) {
        const warm = await idsBeforePosition(c, o, meta.topics.get(o.topic)!.partitionsCount, o.forward.rememberIds ?? WARM_IDS);
        forwarder.remember(warm.ids);
        if (warm.problem !== null)
          o.log(`forward: could not read back the alerts before the stored position (${warm.problem}); copies of them republished later may be sent again`);
      }
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

/**
 * The alert ids just before the group's position, so that a copy an engine republishes after
 * this forwarder restarted is still known as sent: the memory of recent ids survives a restart.
 * Read by a private group that never commits; a failure only costs that memory.
 */
async function idsBeforePosition(
  group: Consumer<Buffer, Buffer, Buffer, Buffer>,
  o: TopicForwardOptions,
  partitions: number,
  perPartition: number,
): Promise<{ ids: string[]; problem: string | null }> {
  const ids: string[] = [];
  let reader: Consumer<Buffer, Buffer, Buffer, Buffer> | null = null;
  try {
    const all = Array.from({ length: partitions }, (_, p) => p);
    const committed = (await group.listCommittedOffsets({ topics: [{ topic: o.topic, partitions: all }] })).get(o.topic) ?? [];
    const earliest = (await group.listOffsets({ topics: [o.topic], timestamp: -2n })).get(o.topic) ?? [];
    const ranges = all
      .map((p) => {
        const to = committed[p] ?? -1n;
        const from = [to - BigInt(perPartition), earliest[p] ?? 0n].reduce((a, b) => (a > b ? a : b));
        return { partition: p, from, to };
      })
      .filter((r) => r.to > 0n && r.from < r.to);
    if (ranges.length === 0) return { ids, problem: null };
    reader = new Consumer<Buffer, Buffer, Buffer, Buffer>({
      ...clientOptions(o.settings, 'alerts-forward-recall'),
      groupId: `tickflow-forward-recall-${randomBytes(6).toString('hex')}`,
      autocommit: false,
      maxWaitTime: 200,
    });
    const stream = await reader.consume({
      topics: [o.topic],
      mode: 'manual',
      offsets: ranges.map((r) => ({ topic: o.topic, partition: r.partition, offset: r.from })),
      autocommit: false,
    });
    const left = new Map(ranges.map((r) => [r.partition, r.to]));
    const deadline = Date.now() + WARM_TIMEOUT_MS;
    const timer = setTimeout(() => stream.destroy(), WARM_TIMEOUT_MS);
    try {
      for await (const m of stream) {
        const to = left.get(m.partition);
        if (to === undefined || m.offset >= to) continue;
        const a = parseAlertJson(m.value ?? Buffer.alloc(0));
        if (a !== null) ids.push(a.alert_id);
        if (m.offset + 1n >= to) left.delete(m.partition);
        if (left.size === 0 || o.signal.aborted || Date.now() > deadline) break;
      }
    } finally {
      clearTimeout(timer);
      await withTimeout(stream.close(), 5_000, 'close timed out').catch(() => {});
    }
    return { ids, problem: left.size === 0 ? null : `not done within ${WARM_TIMEOUT_MS / 1000} s` };
  } catch (e) {
    return { ids, problem: describeKafkaError(e) };
  } finally {
    if (reader !== null) await closeQuietly(reader);
  }
}
