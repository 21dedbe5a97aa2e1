import { rm } from 'node:fs/promises';
import { clusterCheckpointDir, jobCheckpointDir, localPath } from '../../src/flink/checkpoints.ts';
import { cancelJob, deployPipeline, jdbcTarget } from '../../src/flink/deploy.ts';
import { ACTIVE_STATES, FlinkRestClient } from '../../src/flink/flink-rest.ts';
import type { PipelineSpec } from '../../src/spec/spec.ts';
import { specWith, type PipelineSpecInput } from '../../src/spec/spec.ts';
import { openStore } from '../../src/store/open-store.ts';
import { freshDatabase } from '../support/postgres.ts';
import { createTopic, testStackSettings, uniqueName } from '../support/stack.ts';

/** Helpers shared by the Flink tests: a spec on fresh topics, a fresh migrated database, the job. */
export const settings = testStackSettings();
export const endpoints = {
  gatewayUrl: `http://${settings.host}:${settings.ports.gateway}`,
  flinkUrl: `http://${settings.host}:${settings.ports.flink}`,
};
export const kafkaBootstrap = `${settings.host}:${settings.ports.kafka}`;
export const rest = new FlinkRestClient(endpoints.flinkUrl);

/** Names of the jobs this test file made (module state: one registry per test file). */
const jobNames = new Set<string>();

/** A spec whose three topics are new (created here) and a job name no other run uses. */
export async function freshSpec(prefix: string, overrides: PipelineSpecInput = {}): Promise<{ spec: PipelineSpec; name: string }> {
  const name = uniqueName(prefix);
  jobNames.add(name);
  const spec = specWith({
    ...overrides,
    input: { topic: `${name}_trades`, ...overrides.input },
    topics: { alerts: `${name}_alerts`, deadLetters: `${name}_dlq`, ...overrides.topics },
  });
  await createTopic(spec.input.topic, spec.input.partitions);
  await createTopic(spec.topics.alerts, 1);
  await createTopic(spec.topics.deadLetters, 1);
  return { spec, name };
}

/** A new database with tickflow's schema (Flink never creates tables). */
export async function migratedDatabase(prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const db = await freshDatabase(prefix);
  const store = await openStore(db.url);
  await store.close();
  return db;
}

export async function deployForTest(spec: PipelineSpec, name: string, dbUrl: string, parallelism = spec.input.partitions): Promise<string> {
  const { jobId } = await deployPipeline({
    ...endpoints,
    spec,
    target: { kafkaBootstrap, ...jdbcTarget(dbUrl), jobName: name, groupId: name, parallelism, transactionalIdPrefix: name },
    timeoutMs: 180_000,
  });
  return jobId;
}

/**
 * Cancels the job unless it already ended, and fails unless it reaches a terminal state (a
 * leaked job of parallelism 3 would starve every later test file of slots); with its name, also
 * deletes the checkpoints deploy retained for it (one folder per name).
 */
export async function stopJob(jobId: string | undefined, jobName?: string): Promise<void> {
  if (jobId) {
    // A JobManager restarted without HA no longer knows the job: it is gone.
    const state = await rest.jobState(jobId).catch((e: Error) => {
      if (/\(404\)/.test(e.message)) return 'UNKNOWN';
      throw e;
    });
    if (ACTIVE_STATES.has(state)) await cancelJob(rest, jobId);
  }
  if (jobName === undefined) return;
  const clusterDir = clusterCheckpointDir(await rest.clusterConfig().catch(() => ({})));
  const dir = clusterDir === null ? null : localPath(jobCheckpointDir(clusterDir, jobName));
  if (dir !== null) await rm(dir, { recursive: true, force: true });
}

/** Fails when a job this file made (by name, from freshSpec) is still running: call it last in afterAll. */
export async function expectNoJobsLeft(): Promise<void> {
  const left = (await rest.jobs()).filter((j) => jobNames.has(j.name) && ACTIVE_STATES.has(j.state));
  if (left.length > 0) throw new Error(`Flink jobs of this test file still running: ${left.map((j) => `${j.name} (${j.jid}, ${j.state})`).join(', ')}`);
}

/** Kafka's default partitioner for keyed records: toPositive(murmur2(key)) % partitions. */
export function kafkaPartition(key: string, partitions: number): number {
  const data = Buffer.from(key);
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ data.length;
  const length4 = data.length >> 2;
  for (let i = 0; i < length4; i++) {
    const o = i * 4;
    let k = data[o]! | (data[o + 1]! << 8) | (data[o + 2]! << 16) | (data[o + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = data.length & 3;
  const base = data.length & ~3;
  if (rest === 3) h ^= data[base + 2]! << 16;
  if (rest >= 2) h ^= data[base + 1]! << 8;
  if (rest >= 1) {
    h ^= data[base]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return (h & 0x7fffffff) % partitions;
}

/** "key<TAB>line" for the console producer: key = ticker (a ticker's trades stay in order on one partition). */
export function keyedByTicker(lines: string[]): string[] {
  return lines.map((l) => {
    let key = 'unparsed';
    try {
      const t = (JSON.parse(l) as { ticker?: unknown }).ticker;
      if (typeof t === 'string' && t.length > 0 && !/[\t\n]/.test(t)) key = t;
    } catch {
      // not JSON: any fixed key will do
    }
    return `${key}\t${l}`;
  });
}
