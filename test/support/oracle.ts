import { parseTradeBytes } from '../../src/trade/parse.ts';
import { formatPriceE4, formatTimestamp, type Trade } from '../../src/trade/trade.ts';
import type { PipelineSpec } from '../../src/spec/spec.ts';

/**
 * A deliberately naive model of the pipeline semantics (docs/architecture.md#semantics),
 * written without the engine's incremental machinery: whole-input passes, sorting and BigInt.
 * Tests compare the engine's database against it.
 */
export interface Expected {
  trades: string[];
  alerts: string[];
  candles: string[];
  deadLetters: string[];
  read: number;
  duplicates: number;
  late: number;
}

export function oracle(lines: Uint8Array[], source: string, spec: PipelineSpec): Expected {
  const ooo = spec.input.outOfOrdernessMs;
  const interval = spec.candles.intervalMs;
  let maxTs = Number.NEGATIVE_INFINITY;
  // The dedupe horizon as docs/architecture.md#duplicates states it: ids are kept in two
  // generations, each spanning horizonMs of watermark progress; when a new one starts the
  // oldest is dropped whole. An id is remembered while its generation is the current or the
  // previous one, so at least one horizon and at most two after it was first seen.
  const horizon = spec.dedupe.horizonMs;
  const generationOf = new Map<string, number>();
  let generation = 0;
  let generationStart = Number.NEGATIVE_INFINITY;
  const eventTime = (tsMs: number): void => {
    if (tsMs <= maxTs) return;
    maxTs = tsMs;
    const watermark = maxTs - ooo;
    if (generationStart === Number.NEGATIVE_INFINITY) generationStart = watermark;
    else if (watermark - generationStart >= horizon) {
      generation++;
      generationStart = watermark;
    }
  };
  const remembered = (id: string): boolean => (generationOf.get(id) ?? Number.NEGATIVE_INFINITY) >= generation - 1;
  const stored: { t: Trade; seq: number }[] = [];
  const onTime: { t: Trade; seq: number }[] = [];
  const deadLetters: string[] = [];
  let read = 0;
  let duplicates = 0;
  let late = 0;
  lines.forEach((bytes, i) => {
    if (/^[ \t\r]*$/.test(Buffer.from(bytes).toString('latin1'))) return;
    read++;
    const r = parseTradeBytes(bytes, spec.input.maxRecordBytes);
    if (!r.ok) {
      deadLetters.push(`${source}|0|${i + 1}|${r.code}`);
      return;
    }
    if (r.ok === 'heartbeat') {
      eventTime(r.tsMs);
      return;
    }
    const t = r.trade;
    const watermark = maxTs - ooo;
    const duplicate = remembered(t.tradeId);
    eventTime(t.tsMs);
    if (duplicate) {
      duplicates++;
      return;
    }
    // A forgotten id counts as new: its record goes through again (the database keys keep the
    // first row and alert).
    generationOf.set(t.tradeId, generation);
    stored.push({ t, seq: i });
    if (t.tsMs < watermark) late++;
    else onTime.push({ t, seq: i });
  });

  // alert_id → the alert of the earliest record (the one the database keeps).
  const alertById = new Map<string, { seq: number; row: string }>();
  const alert = (id: string, seq: number, row: string): void => {
    const had = alertById.get(id);
    if (had === undefined || seq < had.seq) alertById.set(id, { seq, row });
  };
  const { largeTrade, volumeSpike } = spec.rules;
  if (largeTrade.enabled) {
    for (const { t, seq } of stored) {
      if (t.volume > largeTrade.threshold) alert(`large:${t.tradeId}`, seq, `large:${t.tradeId}|large_trade|${t.ticker}|${t.volume}|${largeTrade.threshold}|`);
    }
  }
  if (volumeSpike.enabled) {
    const byTicker = new Map<string, { t: Trade; seq: number }[]>();
    for (const x of onTime) byTicker.set(x.t.ticker, [...(byTicker.get(x.t.ticker) ?? []), x]);
    for (const list of byTicker.values()) {
      list.sort((a, b) => a.t.tsMs - b.t.tsMs || a.seq - b.seq);
      const n = volumeSpike.lookback;
      list.forEach(({ t, seq }, i) => {
        if (i < n) return;
        const prev = list.slice(i - n, i).reduce((s, x) => s + BigInt(x.t.volume), 0n);
        // volume > factor × prev/n  ⇔  volume·n·100 > factor·100·prev
        if (BigInt(t.volume) * BigInt(n) * 100n > BigInt(Math.round(volumeSpike.factor * 100)) * prev) {
          const num = prev * 10_000n;
          const q = num / BigInt(n);
          const mean = (num - q * BigInt(n)) * 2n >= BigInt(n) ? q + 1n : q;
          alert(`spike:${t.tradeId}`, seq, `spike:${t.tradeId}|volume_spike|${t.ticker}|${t.volume}||${formatPriceE4(Number(mean))}`);
        }
      });
    }
  }

  const windows = new Map<string, Trade[]>();
  for (const { t } of onTime) {
    const start = Math.floor(t.tsMs / interval) * interval;
    const key = `${t.ticker}|${start}`;
    windows.set(key, [...(windows.get(key) ?? []), t]);
  }
  const candles = [...windows.entries()].map(([key, ts]) => {
    const [ticker, start] = key.split('|') as [string, string];
    const vol = ts.reduce((s, t) => s + BigInt(t.volume), 0n);
    const notional = ts.reduce((s, t) => s + BigInt(t.priceE4) * BigInt(t.volume), 0n);
    const q = notional / vol;
    const vwap = (notional - q * vol) * 2n >= vol ? q + 1n : q;
    const prices = ts.map((t) => t.priceE4);
    return [
      ticker,
      formatTimestamp(Number(start)),
      formatPriceE4(ts[0]!.priceE4),
      formatPriceE4(Math.max(...prices)),
      formatPriceE4(Math.min(...prices)),
      formatPriceE4(ts.at(-1)!.priceE4),
      vol.toString(),
      formatPriceE4(Number(vwap)),
      ts.length,
    ].join('|');
  });

  const rows = new Map<string, Trade>();
  for (const { t } of stored) if (!rows.has(t.tradeId)) rows.set(t.tradeId, t);
  return {
    trades: [...rows.values()].map((t) => `${t.tradeId}|${t.ticker}|${formatPriceE4(t.priceE4)}|${t.volume}|${formatTimestamp(t.tsMs)}`).sort(),
    alerts: [...alertById.values()].map((a) => a.row).sort(),
    candles: candles.sort(),
    deadLetters: deadLetters.sort(),
    read,
    duplicates,
    late,
  };
}

/** The same four tables, read back from a database in the oracle's text form. */
export const ACTUAL_QUERIES = {
  trades: `SELECT trade_id || '|' || ticker || '|' || price::text || '|' || volume || '|' ||
                  to_char(trade_timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS row FROM stock_trades`,
  alerts: `SELECT alert_id || '|' || kind || '|' || ticker || '|' || volume || '|' || coalesce(threshold::text, '') || '|' ||
                  coalesce(baseline_mean::text, '') AS row FROM trade_alerts`,
  candles: `SELECT ticker || '|' || to_char(window_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '|' ||
                   open::text || '|' || high::text || '|' || low::text || '|' || close::text || '|' || volume || '|' ||
                   vwap::text || '|' || trade_count AS row FROM trade_candles`,
  deadLetters: `SELECT source || '|' || source_partition || '|' || source_offset || '|' || reason_code AS row FROM dead_letters`,
} as const;
