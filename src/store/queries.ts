import type { SqlClient } from './store.ts';

/** Read-side queries shared by the CLI and the HTTP API; always parameterized. */
export interface ListFilter {
  ticker?: string | undefined;
  limit: number;
}

export async function listTrades(db: SqlClient, f: ListFilter): Promise<Record<string, unknown>[]> {
  return db.query(
    `SELECT trade_id, ticker, price::text AS price, volume, to_char(trade_timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS trade_timestamp
       FROM stock_trades WHERE ($1::text IS NULL OR ticker = $1) ORDER BY trade_timestamp DESC, trade_id LIMIT $2`,
    [f.ticker ?? null, f.limit],
  );
}

export async function listAlerts(db: SqlClient, f: ListFilter): Promise<Record<string, unknown>[]> {
  return db.query(
    `SELECT alert_id, kind, ticker, volume, price::text AS price,
            to_char(trade_timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS trade_timestamp,
            threshold::text AS threshold, baseline_mean::text AS baseline_mean, message
       FROM trade_alerts WHERE ($1::text IS NULL OR ticker = $1) ORDER BY trade_timestamp DESC, alert_id LIMIT $2`,
    [f.ticker ?? null, f.limit],
  );
}

export async function listCandles(db: SqlClient, f: ListFilter): Promise<Record<string, unknown>[]> {
  return db.query(
    `SELECT ticker, to_char(window_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS window_start,
            open::text AS open, high::text AS high, low::text AS low, close::text AS close,
            volume::text AS volume, vwap::text AS vwap, trade_count
       FROM trade_candles WHERE ($1::text IS NULL OR ticker = $1) ORDER BY window_start DESC, ticker LIMIT $2`,
    [f.ticker ?? null, f.limit],
  );
}

export async function listDeadLetters(db: SqlClient, f: ListFilter): Promise<Record<string, unknown>[]> {
  return db.query(
    `SELECT id::text AS id, reason_code, reason, source, source_partition, source_offset::text AS source_offset,
            left(convert_from(raw, 'SQL_ASCII'), 120) AS raw
       FROM dead_letters ORDER BY id DESC LIMIT $1`,
    [f.limit],
  );
}

/**
 * The Kafka consumer's checkpoints, one row per group and partition: where it resumes and how
 * much state it carries (tickers, trades waiting for the watermark). --ticker finds the
 * partition that holds a ticker's state.
 */
export async function listCheckpoints(db: SqlClient, f: ListFilter): Promise<Record<string, unknown>[]> {
  return db.query(
    `SELECT group_id, topic, partition, next_offset::text AS next_offset,
            (SELECT count(*) FROM jsonb_object_keys(state->'tickers'))::int AS tickers,
            (SELECT coalesce(sum((t.v->>'pending')::int), 0) FROM jsonb_each(state->'tickers') AS t(k, v))::int AS waiting,
            to_char(('epoch'::timestamptz + (state->>'maxEventTimeMs')::bigint * interval '1 millisecond') AT TIME ZONE 'UTC',
                    'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS max_event_time,
            to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS updated_at
       FROM tickflow_checkpoints WHERE ($1::text IS NULL OR state->'tickers' ? $1)
      ORDER BY group_id, topic, partition LIMIT $2`,
    [f.ticker ?? null, f.limit],
  );
}
