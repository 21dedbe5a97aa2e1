/**
 * The TS consumer's checkpoint module (src/kafka/checkpoints/) against a real database
 * (PGlite), without Kafka: a scripted group member hands partitions and records to the run as
 * a consumer would — batches of random size from random partitions, a partition revoked and
 * given back mid-run (before or after it delivered), and crashes (early ones too: some partitions
 * have delivered nothing, or nothing committed) (the process dies with records processed but not committed;
 * only what its transactions committed survives). Every life starts from what the table and
 * the group's committed offsets say. At the end the tables must equal those of one
 * uninterrupted run, and — on one partition, where its single-stream model applies — the
 * oracle's.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { EngineOutput, RawRecord } from '../../src/engine/records.ts';
import { type GroupMember, PartitionCheckpoints, type PartitionOwner } from '../../src/kafka/checkpoints/partition-checkpoints.ts';
import { PipelineRun } from '../../src/pipeline/run-pipeline.ts';
import { SeededRandom } from '../../src/simulate/random.ts';
import type { Source } from '../../src/source/source.ts';
import { specWith } from '../../src/spec/spec.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { CommitStep, Store, WriteResult } from '../../src/store/store.ts';
import { checkpointFeedLines } from '../support/checkpoint-feed.ts';
import { ACTUAL_QUERIES, oracle } from '../support/oracle.ts';

const T0 = Date.UTC(2026, 10, 25, 9, 30, 0);
const TOPIC = 'trades';
const spec = specWith({
  // Idle partitions never come into it: the wall clock must not decide anything here.
  input: { topic: TOPIC, outOfOrdernessMs: 2_000, idleTimeoutMs: 3_600_000 },
  // Every rule kind and what each keeps in a checkpoint (spike baselines, price windows and
  // crossing flags, cooldown slices), moved between members with their partitions.
  rules: [
    { name: 'large', kind: 'large_trade', threshold: 40_000, overrides: { P1B: 50_000 } },
    { name: 'whale', kind: 'notional', amount: 4_000_000, cooldownSeconds: 3 },
    { name: 'spike', kind: 'volume_spike', factor: 2, lookback: 4 },
    { name: 'jump', kind: 'price_move', percent: 3, windowSeconds: 5, tickers: ['P0A', 'P1A', 'P2B'] },
    { name: 'jump-cool', kind: 'price_move', percent: 2, windowSeconds: 3, cooldownSeconds: 10, severity: 'critical' },
  ],
  candles: { intervalMs: 5_000 },
  // Longer than the feed: which replays are caught must not depend on how the partitions interleave
  // (the horizon is measured on the engine's watermark, the minimum over partitions).
  dedupe: { horizonMs: 600_000 },
});

/** One partition's records: the shared checkpoint feed, with tickers and ids of its own. */
function partitionFeed(seed: number, partition: number, count: number): RawRecord[] {
  const lines = checkpointFeedLines(seed, count, { start: T0, tickers: [`P${partition}A`, `P${partition}B`], id: (i) => `t${partition}-${i}` });
  return lines.map((value, offset) => ({ value, source: TOPIC, partition, offset }));
}

/** What outlives a consumer process: the group's committed offsets (the database is the store). */
class Group {
  readonly committed = new Map<number, bigint>();
  readonly partitions: readonly RawRecord[][];
  constructor(partitions: readonly RawRecord[][]) {
    this.partitions = partitions;
  }
}

interface LifePlan {
  /** Records handed out before the process dies; null: it runs to the end of the input. */
  crashAfter: number | null;
  /** A partition revoked after `at` records and given back `back` records later. */
  revoke: { partition: number; at: number; back: number } | null;
}

class CrashError extends Error {}

/**
 * A consumer-group member as the run sees it: the owner is told of every assignment change
 * before any record of a gained partition is handed out, and says where to resume it.
 */
class ScriptedMember implements Source, GroupMember {
  readonly description = 'scripted group member';
  readonly #group: Group;
  readonly #owner: PartitionOwner;
  readonly #plan: LifePlan;
  readonly #rng: SeededRandom;
  readonly #next = new Map<number, bigint>();
  readonly #assigned = new Set<number>();
  revocations = 0;
  resumedFromCheckpoint = 0;

  constructor(group: Group, owner: PartitionOwner, plan: LifePlan, rng: SeededRandom) {
    this.#group = group;
    this.#owner = owner;
    this.#plan = plan;
    this.#rng = rng;
  }

  async committedOffsets(partitions: readonly number[]): Promise<Map<number, bigint>> {
    return new Map(partitions.map((p) => [p, this.#group.committed.get(p) ?? -1n]));
  }

  async commitOffsets(next: ReadonlyMap<number, bigint>): Promise<void> {
    for (const [p, o] of next) this.#group.committed.set(p, o);
  }

  async #change(gained: number[], lost: number[], signal: AbortSignal): Promise<void> {
    for (const p of gained) this.#assigned.add(p);
    for (const p of lost) this.#assigned.delete(p);
    const { taken, resume } = await this.#owner.onAssignment({ gained, lost, signal, isAssigned: (p) => this.#assigned.has(p), member: this });
    expect([...taken]).toEqual(gained);
    for (const p of lost) this.#next.delete(p);
    for (const p of gained) {
      const at = resume.get(p);
      if (at !== undefined) this.resumedFromCheckpoint++;
      const committed = this.#group.committed.get(p) ?? -1n;
      this.#next.set(p, at ?? (committed >= 0n ? committed : 0n));
    }
  }

  async *batches(signal: AbortSignal): AsyncIterable<RawRecord[]> {
    const all = this.#group.partitions.map((_, p) => p);
    await this.#change(all, [], signal);
    let handedOut = 0;
    let revoked: number | null = null;
    let revokedAt = 0;
    const { crashAfter, revoke } = this.#plan;
    for (;;) {
      if (revoke !== null && revoked === null && handedOut >= revoke.at && this.#assigned.has(revoke.partition)) {
        revoked = revoke.partition;
        await this.#change([], [revoked], signal);
        revokedAt = handedOut;
        this.revocations++;
      } else if (revoked !== null && !this.#assigned.has(revoked) && handedOut >= revokedAt + revoke!.back) {
        await this.#change([revoked], [], signal);
      }
      const open = [...this.#next].filter(([p, o]) => o < BigInt(this.#group.partitions[p]!.length));
      if (open.length === 0) {
        if (revoked !== null && !this.#assigned.has(revoked)) {
          await this.#change([revoked], [], signal);
          continue;
        }
        return;
      }
      const [p, from] = open[this.#rng.int(open.length)]!;
      const records = this.#group.partitions[p]!;
      let size = 1 + this.#rng.int(80);
      if (crashAfter !== null) size = Math.min(size, crashAfter - handedOut);
      const batch = records.slice(Number(from), Number(from) + size);
      this.#next.set(p, from + BigInt(batch.length));
      handedOut += batch.length;
      yield batch;
      if (crashAfter !== null && handedOut >= crashAfter) throw new CrashError('the process dies');
    }
  }
}

/**
 * The process's view of the database: once it has died, its writes never commit (a
 * transaction under way when it died either committed or did not — that one is waited for).
 */
class ProcessStore implements Store {
  readonly #db: Store;
  #dead = false;
  #writing = 0;
  #idle: (() => void) | null = null;

  constructor(db: Store) {
    this.#db = db;
  }

  get kind() {
    return this.#db.kind;
  }
  get location() {
    return this.#db.location;
  }
  get claims() {
    return this.#db.claims;
  }
  migrate(): Promise<void> {
    return this.#db.migrate();
  }
  query<T extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]> {
    if (this.#dead) return Promise.reject(new Error('process is dead'));
    return this.#db.query<T>(sql, params);
  }
  async write(out: EngineOutput, step?: CommitStep): Promise<WriteResult> {
    if (this.#dead) throw new CrashError('process is dead');
    this.#writing++;
    try {
      return await this.#db.write(out, step);
    } finally {
      this.#writing--;
      if (this.#writing === 0) this.#idle?.();
    }
  }
  async close(): Promise<void> {}

  /** The process dies: resolves once no transaction of it is under way. */
  async die(): Promise<void> {
    this.#dead = true;
    if (this.#writing > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
  }
}

interface Outcome {
  tables: Record<keyof typeof ACTUAL_QUERIES, string[]>;
  lives: number;
  revocations: number;
  resumed: number;
}

/** Lives until one reaches the end of the input; each starts from the database and the group. */
async function consume(partitions: RawRecord[][], plans: (life: number) => LifePlan, seed: number): Promise<Outcome> {
  const db = await openStore('memory');
  stores.push(db);
  const group = new Group(partitions);
  const rng = new SeededRandom(seed);
  let revocations = 0;
  let resumed = 0;
  for (let life = 1; ; life++) {
    const checkpoints = new PartitionCheckpoints({ spec, groupId: 'g' });
    const member = new ScriptedMember(group, checkpoints, plans(life), rng);
    const store = new ProcessStore(db);
    // Batches end where the member's batches and the drawn batch size say, never on a timer: a
    // failing seed replays the same way.
    const run = new PipelineRun({
      source: member,
      engine: checkpoints.engine,
      store,
      maxBatchTrades: 1 + rng.int(300),
      maxBatchDelayMs: 1e9,
      participants: [checkpoints],
    });
    try {
      await run.run();
    } catch (e) {
      if (!(e instanceof CrashError)) throw e;
      await store.die();
      revocations += member.revocations;
      resumed += member.resumedFromCheckpoint;
      continue;
    }
    revocations += member.revocations;
    resumed += member.resumedFromCheckpoint;
    const tables = {} as Outcome['tables'];
    for (const [k, q] of Object.entries(ACTUAL_QUERIES))
      tables[k as keyof typeof ACTUAL_QUERIES] = (await db.query<{ row: string }>(q)).map((r) => r.row).sort();
    return { tables, lives: life, revocations, resumed };
  }
}

const stores: Store[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
});

const uninterrupted = (): LifePlan => ({ crashAfter: null, revoke: null });

// Two full runs of 4,500 records each through PGlite, every rule kind: minutes on a loaded 2-core machine.
describe('partition checkpoints (PGlite, scripted group member)', { timeout: 300_000 }, () => {
  for (const seed of [1, 2, 3]) {
    it(`three partitions: crashes and a revoked partition end with the tables of one uninterrupted run (seed ${seed})`, async () => {
      const partitions = [0, 1, 2].map((p) => partitionFeed(seed * 31 + p, p, 1_500));
      const total = partitions.reduce((n, r) => n + r.length, 0);
      const expected = await consume(partitions, uninterrupted, seed);
      const plan = new SeededRandom(seed * 7919);
      const crashing = await consume(
        partitions,
        (life) =>
          life <= 5
            ? { crashAfter: 20 + plan.int(total / 4), revoke: life % 2 === 1 ? { partition: plan.int(3), at: plan.int(300), back: 50 + plan.int(300) } : null }
            : uninterrupted(),
        seed,
      );
      expect(crashing.lives).toBeGreaterThanOrEqual(4);
      expect(crashing.revocations).toBeGreaterThan(0);
      expect(crashing.resumed).toBeGreaterThan(0);
      // The feed exercises what a checkpoint keeps: spike baselines and waiting trades, open windows.
      expect(expected.tables.alerts.filter((a) => a.startsWith('spike:')).length).toBeGreaterThan(20);
      expect(expected.tables.candles.length).toBeGreaterThan(100);
      expect(crashing.tables).toEqual(expected.tables);
    });
  }

  it('one partition, crashes every few hundred records: the tables are the oracle’s', async () => {
    const records = partitionFeed(77, 0, 3_000);
    const expected = oracle(
      records.map((r) => Buffer.from(r.value as string)),
      TOPIC,
      spec,
    );
    const plan = new SeededRandom(4242);
    const crashing = await consume([records], (life) => (life <= 8 ? { crashAfter: 20 + plan.int(500), revoke: null } : uninterrupted()), 5);
    expect(crashing.lives).toBe(9);
    expect(crashing.resumed).toBeGreaterThanOrEqual(7);
    expect(crashing.tables.trades).toEqual(expected.trades);
    expect(crashing.tables.alerts).toEqual(expected.alerts);
    expect(crashing.tables.candles).toEqual(expected.candles);
    // The oracle numbers records as a file's lines (from 1), a topic's offsets start at 0.
    const asOffsets = expected.deadLetters
      .map((d) => d.replace(/^(\w+)\|0\|(\d+)\|/, (_, src: string, line: string) => `${src}|0|${Number(line) - 1}|`))
      .sort();
    expect(crashing.tables.deadLetters).toEqual(asOffsets);
  });
});
