import { createHash } from 'node:crypto';
import { emptyTickerState, type EngineState } from '../../engine/engine-state.ts';
import type { PipelineSpec } from '../../spec/spec.ts';
import type { SqlClient, SqlStatement } from '../../store/store.ts';
import type { Trade } from '../../trade/trade.ts';

/**
 * Checkpoints of the TS Kafka consumer, in PostgreSQL next to the data (table
 * tickflow_checkpoints): per consumer group and input partition, the next offset to read and
 * the engine state of the partition's tickers. Each is written in the transaction that stored
 * the effects of the records before that offset, so the data and the checkpoint never
 * disagree — a restarted consumer takes the state over and reads on from the offset.
 */
export interface PartitionCheckpoint {
  readonly partition: number;
  readonly nextOffset: bigint;
  readonly state: EngineState;
}

/**
 * The spec settings the state depends on: a checkpoint written under other settings (another
 * candle interval or out-of-orderness bound) cannot be continued exactly.
 */
export function specFingerprint(spec: PipelineSpec): string {
  const relevant = {
    outOfOrdernessMs: spec.input.outOfOrdernessMs,
    candleIntervalMs: spec.candles.intervalMs,
    // Rule state is kept or dropped rule by rule (EngineState.rules); this marks rows written
    // before that, whose spike baseline had no rule name.
    state: 'rules-v1',
  };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 16);
}

/**
 * Splits the engine's state by the partition each ticker comes from. Each row carries its
 * partition's newest event time and the engine's watermark (what its windows were closed and its
 * trades released up to): a restored partition starts from its own progress.
 */
export function splitByPartition(
  state: EngineState,
  partitionOf: (ticker: string) => number | undefined,
  nextOffsets: ReadonlyMap<number, bigint>,
): PartitionCheckpoint[] {
  const byPartition = new Map<number, EngineState>();
  for (const p of nextOffsets.keys()) {
    const own = state.partitions?.[p];
    byPartition.set(p, {
      maxEventTimeMs: own === undefined ? (state.partitions === undefined ? state.maxEventTimeMs : null) : own.maxEventTimeMs,
      watermarkMs: own?.watermarkMs ?? state.watermarkMs ?? null,
      tickers: {},
    });
  }
  for (const [ticker, s] of Object.entries(state.tickers)) {
    const p = partitionOf(ticker);
    // A ticker of a partition we no longer own is that partition's new owner's to checkpoint.
    const target = p === undefined ? undefined : byPartition.get(p);
    if (target !== undefined) target.tickers[ticker] = s;
  }
  return [...byPartition].map(([partition, st]) => ({ partition, nextOffset: nextOffsets.get(partition)!, state: st }));
}

const SAVE_SQL = `
INSERT INTO tickflow_checkpoints AS c (group_id, topic, partition, spec, next_offset, state, updated_at)
SELECT $1, $2, u.p, $3, u.o, u.s::jsonb, now() FROM unnest($4::int[], $5::bigint[], $6::text[]) AS u(p, o, s)
ON CONFLICT (group_id, topic, partition) DO UPDATE SET
  spec = EXCLUDED.spec, next_offset = EXCLUDED.next_offset, state = EXCLUDED.state, updated_at = EXCLUDED.updated_at`;

export function saveCheckpoints(group: string, topic: string, spec: string, rows: readonly PartitionCheckpoint[]): SqlStatement {
  return {
    sql: SAVE_SQL,
    params: [group, topic, spec, rows.map((r) => r.partition), rows.map((r) => r.nextOffset.toString()), rows.map((r) => JSON.stringify(r.state))],
  };
}

export interface StoredCheckpoint extends PartitionCheckpoint {
  readonly spec: string;
}

export async function loadCheckpoints(db: SqlClient, group: string, topic: string, partitions: readonly number[]): Promise<StoredCheckpoint[]> {
  const rows = await db.query<{ partition: number; spec: string; next_offset: string; state: unknown }>(
    `SELECT partition, spec, next_offset::text AS next_offset, state::text AS state
       FROM tickflow_checkpoints WHERE group_id = $1 AND topic = $2 AND partition = ANY($3::int[])`,
    [group, topic, [...partitions]],
  );
  return rows.map((r) => ({
    partition: Number(r.partition),
    spec: r.spec,
    nextOffset: BigInt(r.next_offset),
    state: parseState(String(r.state)),
  }));
}

function parseState(text: string): EngineState {
  const s = JSON.parse(text) as EngineState;
  const tickers: EngineState['tickers'] = Object.create(null) as EngineState['tickers'];
  // Fields added later default to empty, so an older row still loads (without watermarkMs: see checkpointWatermark).
  for (const [k, v] of Object.entries(s.tickers ?? {})) tickers[k] = { ...emptyTickerState(), ...v };
  return { maxEventTimeMs: s.maxEventTimeMs ?? null, ...(s.watermarkMs !== undefined ? { watermarkMs: s.watermarkMs } : {}), tickers };
}

/**
 * The trades a checkpoint's engine was holding for the watermark: its tickers' stored trades
 * with an event time above `afterMs` (all of them when null). Unordered; see orderPending.
 */
export async function pendingTrades(db: SqlClient, tickers: readonly string[], afterMs: number | null): Promise<Trade[]> {
  if (tickers.length === 0) return [];
  const rows = await db.query<{ trade_id: string; ticker: string; price_e4: string; volume: number; ts_ms: string }>(
    `SELECT trade_id, ticker, (price * 10000)::bigint::text AS price_e4, volume,
            (extract(epoch FROM trade_timestamp) * 1000)::bigint::text AS ts_ms
       FROM stock_trades
      WHERE ticker = ANY($1::text[])
        AND ($2::bigint IS NULL OR trade_timestamp > 'epoch'::timestamptz + $2::bigint * interval '1 millisecond')`,
    [[...tickers], afterMs === null ? null : String(afterMs)],
  );
  return rows.map((r) => ({ tradeId: r.trade_id, ticker: r.ticker, priceE4: Number(r.price_e4), volume: Number(r.volume), tsMs: Number(r.ts_ms) }));
}

/** Which of these trade ids stock_trades already holds. */
export async function storedTradeIds(db: SqlClient, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<{ trade_id: string }>('SELECT trade_id FROM stock_trades WHERE trade_id = ANY($1::text[])', [[...ids]]);
  return rows.map((r) => r.trade_id);
}
