import { type Admin, ListOffsetTimestamps } from '@platformatic/kafka';
import { describeKafkaError } from './errors.ts';

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  /** Topic-level configs, e.g. retention for the dead-letter topic. */
  readonly configs?: Readonly<Record<string, string>>;
}

/**
 * Every topic tickflow creates: the broker stamps each record with the time it was appended,
 * whatever timestamp its producer set, so retention counts from when a record was written.
 * Under Kafka's default (CreateTime), a producer that stamps records with their event time —
 * a replay of last month's trades — has them deleted by the next retention check.
 */
const WRITE_TIME = { 'message.timestamp.type': 'LogAppendTime' } as const;

/**
 * The topics a pipeline needs (docs/architecture.md#topics): the input (3 partitions by default
 * so three consumers can share it; `sensors` keeps the seed's name working), alerts and dead
 * letters.
 */
export function pipelineTopics(o: { input: string; partitions: number; alerts: string; deadLetters: string }): TopicSpec[] {
  return [
    { name: o.input, partitions: o.partitions, configs: WRITE_TIME },
    { name: o.alerts, partitions: 1, configs: WRITE_TIME },
    // Dead letters are evidence: keep them longer than the default week.
    { name: o.deadLetters, partitions: 1, configs: { ...WRITE_TIME, 'retention.ms': String(30 * 24 * 3600 * 1000) } },
  ];
}

export type TopicOutcome = { name: string; partitions: number; status: 'created' | 'exists'; note?: string };

/** Creates what is missing and reports what already exists; running it twice changes nothing. */
export async function ensureTopics(admin: Admin, specs: readonly TopicSpec[]): Promise<TopicOutcome[]> {
  const existing = new Set(await admin.listTopics());
  const out: TopicOutcome[] = [];
  for (const spec of specs) {
    if (existing.has(spec.name)) {
      const [d] = await describeTopics(admin, [spec.name]);
      const have = d?.partitions.length ?? 0;
      const note = have < spec.partitions ? `has ${have} partition(s), fewer than the ${spec.partitions} asked for (left as is)` : undefined;
      out.push({ name: spec.name, partitions: have, status: 'exists', ...(note ? { note } : {}) });
      continue;
    }
    try {
      await admin.createTopics({
        topics: [spec.name],
        partitions: spec.partitions,
        replicas: 1,
        configs: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value })),
      });
      out.push({ name: spec.name, partitions: spec.partitions, status: 'created' });
    } catch (e) {
      // Another process (a second consumer starting) may have won the race: that is success.
      if (describeKafkaError(e).includes('already exists') || JSON.stringify(e, jsonBigint).includes('TOPIC_ALREADY_EXISTS')) {
        out.push({ name: spec.name, partitions: spec.partitions, status: 'exists' });
        continue;
      }
      throw e;
    }
  }
  return out;
}

export interface PartitionInfo {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  earliest: bigint;
  latest: bigint;
}

export interface TopicInfo {
  name: string;
  id: string;
  partitions: PartitionInfo[];
}

/** Partitions with leader, replicas, in-sync replicas and the earliest/latest offsets. */
export async function describeTopics(admin: Admin, names: readonly string[]): Promise<TopicInfo[]> {
  if (names.length === 0) return [];
  const meta = await admin.metadata({ topics: [...names], forceUpdate: true });
  const offsets = async (timestamp: bigint): Promise<Map<string, bigint>> => {
    const request = names
      .filter((n) => meta.topics.has(n))
      .map((name) => ({
        name,
        partitions: Array.from({ length: meta.topics.get(name)!.partitionsCount }, (_, partitionIndex) => ({ partitionIndex, timestamp })),
      }));
    const listed = await admin.listOffsets({ topics: request });
    const m = new Map<string, bigint>();
    for (const t of listed) for (const p of t.partitions) m.set(`${t.name}:${p.partitionIndex}`, p.offset);
    return m;
  };
  const [earliest, latest] = [await offsets(ListOffsetTimestamps.EARLIEST), await offsets(ListOffsetTimestamps.LATEST)];
  return names
    .filter((n) => meta.topics.has(n))
    .map((name) => {
      const t = meta.topics.get(name)!;
      return {
        name,
        id: t.id,
        partitions: t.partitions.map((p, partition) => ({
          partition,
          leader: p.leader,
          replicas: p.replicas,
          isr: p.isr,
          earliest: earliest.get(`${name}:${partition}`) ?? 0n,
          latest: latest.get(`${name}:${partition}`) ?? 0n,
        })),
      };
    });
}

/** User topics, sorted (internal ones such as __consumer_offsets are left out). */
export async function listTopics(admin: Admin): Promise<string[]> {
  return (await admin.listTopics({ includeInternals: false })).filter((t) => !t.startsWith('__')).sort();
}

function jsonBigint(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}
