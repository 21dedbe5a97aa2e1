import type { Alert, Candle, DeadLetter } from '../engine/records.ts';
import { ALERT_DETAIL_COLUMNS, DETAIL_COLUMN_NAMES } from '../rules/alert-columns.ts';
import { alertDetailValues } from '../rules/alert.ts';
import { formatPriceE4, formatTimestamp } from '../trade/trade.ts';

/**
 * Encodings shared by both backends: column arrays for `unnest` inserts of the small tables
 * (the hot one, stock_trades, goes by binary COPY: trade-copy-binary.ts).
 */

export const TRADE_COLUMNS = 'trade_id, ticker, price, volume, trade_timestamp';

const ALERT_COLUMNS = [
  'alert_id',
  'kind',
  'rule',
  'severity',
  'trade_id',
  'ticker',
  'price',
  'volume',
  'trade_timestamp',
  ...DETAIL_COLUMN_NAMES,
  'detected_at',
  'message',
];
const ALERT_TYPES = [
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'numeric',
  'int',
  'timestamptz',
  ...DETAIL_COLUMN_NAMES.map((c) => (ALERT_DETAIL_COLUMNS[c].table === 'BIGINT' ? 'bigint' : ALERT_DETAIL_COLUMNS[c].table === 'INT' ? 'int' : 'numeric')),
  'timestamptz',
  'text',
];

const ALERT_COLUMN_LIST = ALERT_COLUMNS.join(', ');
const ALERT_ARRAYS = ALERT_TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ');

export const INSERT_ALERTS_SQL = `
INSERT INTO trade_alerts (${ALERT_COLUMN_LIST})
SELECT * FROM unnest(${ALERT_ARRAYS})
ON CONFLICT (alert_id) DO NOTHING`;

/** One array per column; the kind's own fields flattened, absent ones null. */
export function alertParams(alerts: readonly Alert[]): unknown[][] {
  const cols: unknown[][] = Array.from({ length: ALERT_COLUMNS.length }, () => []);
  for (const a of alerts) {
    const t = a.trade;
    cols[0]!.push(a.alertId);
    cols[1]!.push(a.kind);
    cols[2]!.push(a.rule);
    cols[3]!.push(a.severity);
    cols[4]!.push(t.tradeId);
    cols[5]!.push(t.ticker);
    cols[6]!.push(formatPriceE4(t.priceE4));
    cols[7]!.push(t.volume);
    cols[8]!.push(formatTimestamp(t.tsMs));
    const d = alertDetailValues(a);
    for (const [i, c] of DETAIL_COLUMN_NAMES.entries()) cols[9 + i]!.push(d[c] ?? null);
    cols[9 + DETAIL_COLUMN_NAMES.length]!.push(formatTimestamp(a.detectedAtMs));
    cols[10 + DETAIL_COLUMN_NAMES.length]!.push(a.message);
  }
  return cols;
}

/** Re-emitting an identical candle (a replayed file) changes nothing and counts as nothing. */
export const UPSERT_CANDLES_SQL = `
INSERT INTO trade_candles AS c (ticker, window_start, window_end, open, high, low, close, volume, vwap, trade_count)
SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::numeric[], $5::numeric[], $6::numeric[],
                     $7::numeric[], $8::bigint[], $9::numeric[], $10::int[])
ON CONFLICT (ticker, window_start) DO UPDATE SET
  window_end = EXCLUDED.window_end, open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
  close = EXCLUDED.close, volume = EXCLUDED.volume, vwap = EXCLUDED.vwap, trade_count = EXCLUDED.trade_count
WHERE (c.window_end, c.open, c.high, c.low, c.close, c.volume, c.vwap, c.trade_count)
  IS DISTINCT FROM (EXCLUDED.window_end, EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close,
                    EXCLUDED.volume, EXCLUDED.vwap, EXCLUDED.trade_count)`;

export function candleParams(candles: readonly Candle[]): unknown[][] {
  const cols: unknown[][] = Array.from({ length: 10 }, () => []);
  for (const c of candles) {
    cols[0]!.push(c.ticker);
    cols[1]!.push(formatTimestamp(c.windowStartMs));
    cols[2]!.push(formatTimestamp(c.windowEndMs));
    cols[3]!.push(formatPriceE4(c.openE4));
    cols[4]!.push(formatPriceE4(c.highE4));
    cols[5]!.push(formatPriceE4(c.lowE4));
    cols[6]!.push(formatPriceE4(c.closeE4));
    cols[7]!.push(c.volume);
    cols[8]!.push(formatPriceE4(c.vwapE4));
    cols[9]!.push(c.tradeCount);
  }
  return cols;
}

/** Raw bytes travel as base64 text: one encoding that both drivers pass through arrays unchanged. */
export const INSERT_DEAD_LETTERS_SQL = `
INSERT INTO dead_letters (received_at, reason_code, reason, raw, source, source_partition, source_offset)
SELECT r, c, m, decode(b, 'base64'), s, p, o
FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::bigint[]) AS u(r, c, m, b, s, p, o)
ON CONFLICT (source, source_partition, source_offset) DO NOTHING`;

export function deadLetterParams(letters: readonly DeadLetter[]): unknown[][] {
  const cols: unknown[][] = Array.from({ length: 7 }, () => []);
  for (const d of letters) {
    cols[0]!.push(formatTimestamp(d.receivedAtMs));
    cols[1]!.push(d.code);
    cols[2]!.push(d.reason);
    const raw = typeof d.raw === 'string' ? Buffer.from(d.raw, 'utf8') : Buffer.from(d.raw.buffer, d.raw.byteOffset, d.raw.byteLength);
    cols[3]!.push(raw.toString('base64'));
    cols[4]!.push(d.source);
    cols[5]!.push(d.partition);
    cols[6]!.push(d.offset);
  }
  return cols;
}
