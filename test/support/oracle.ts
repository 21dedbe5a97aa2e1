import { DEDUPE_GENERATIONS } from '../../src/engine/trade-id-deduper.ts';
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
  // The dedupe horizon as docs/architecture.md#duplicates states it: ids are kept in
  // generations, each spanning horizonMs / DEDUPE_GENERATIONS of watermark progress; when a new
  // one starts the oldest is dropped whole if DEDUPE_GENERATIONS complete ones would remain.
  // So an id is remembered for at least one horizon and at most 1 + 1/DEDUPE_GENERATIONS of one.
  const step = spec.dedupe.horizonMs / DEDUPE_GENERATIONS;
  const generationOf = new Map<string, number>();
  let generation = 0;
  let generationStart = Number.NEGATIVE_INFINITY;
  const eventTime = (tsMs: number): void => {
    if (tsMs <= maxTs) return;
    maxTs = tsMs;
    const watermark = maxTs - ooo;
    if (generationStart === Number.NEGATIVE_INFINITY) generationStart = watermark;
    else if (watermark - generationStart >= step) {
      generation++;
      generationStart = watermark;
    }
  };
  const remembered = (id: string): boolean => (generationOf.get(id) ?? Number.NEGATIVE_INFINITY) >= generation - DEDUPE_GENERATIONS;
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
  for (const rule of spec.rules) {
    const cooldownMs = (rule.cooldownSeconds ?? 0) * 1000;
    const ordered = rule.kind === 'volume_spike' || rule.kind === 'price_move' || cooldownMs > 0;
    const mine = (ordered ? onTime : stored).filter(({ t }) => rule.tickers === undefined || rule.tickers.includes(t.ticker));
    // Per ticker: in event-time order (arrival order among equal times), or as read.
    const byTicker = new Map<string, { t: Trade; seq: number }[]>();
    for (const x of mine) {
      const list = byTicker.get(x.t.ticker);
      if (list === undefined) byTicker.set(x.t.ticker, [x]);
      else list.push(x);
    }
    for (const list of byTicker.values()) {
      if (ordered) list.sort((a, b) => a.t.tsMs - b.t.tsMs || a.seq - b.seq);
      const slices = new Set<number>();
      let prevCrossing = false;
      list.forEach(({ t, seq }, i) => {
        let details: string | null = null;
        if (rule.kind === 'large_trade') {
          const threshold = rule.overrides?.[t.ticker] ?? rule.threshold;
          if (t.volume > threshold) details = `${threshold}||||||||`;
        } else if (rule.kind === 'notional') {
          const product = BigInt(t.priceE4) * BigInt(t.volume);
          const amountE2 = BigInt(Math.round(rule.amount * 100));
          if (product > amountE2 * 100n) details = `|${decimal(amountE2, 2)}|${decimal(product, 4)}||||||`;
        } else if (rule.kind === 'volume_spike') {
          const n = rule.lookback;
          if (i >= n) {
            const prev = list.slice(i - n, i).reduce((sum, x) => sum + BigInt(x.t.volume), 0n);
            // volume > factor × prev/n  ⇔  volume·n·100 > factor·100·prev
            if (BigInt(t.volume) * BigInt(n) * 100n > BigInt(Math.round(rule.factor * 100)) * prev) {
              const num = prev * 10_000n;
              const q = num / BigInt(n);
              const mean = (num - q * BigInt(n)) * 2n >= BigInt(n) ? q + 1n : q;
              details = `|||${formatPriceE4(Number(mean))}|${rule.factor.toFixed(2)}|${n}|||`;
            }
          }
        } else {
          // The reference: the first trade of the ticker (in this order) at or after t − W.
          const ref = list.find((x) => x.t.tsMs >= t.tsMs - rule.windowSeconds * 1000)!.t.priceE4;
          const diff = BigInt(t.priceE4 - ref);
          const crossing = (diff < 0n ? -diff : diff) * 10_000n > BigInt(Math.round(rule.percent * 100)) * BigInt(ref);
          if (crossing && !prevCrossing) {
            const num = diff * 10_000n;
            const abs = num < 0n ? -num : num;
            const q = abs / BigInt(ref);
            const bp = (abs - q * BigInt(ref)) * 2n >= BigInt(ref) ? q + 1n : q;
            details = `||||||${formatPriceE4(ref)}|${num < 0n && bp > 0n ? '-' : ''}${decimal(bp, 2)}|${rule.windowSeconds}`;
          }
          prevCrossing = crossing;
        }
        if (details === null) return;
        if (cooldownMs > 0) {
          const slice = Math.floor(t.tsMs / cooldownMs);
          if (slices.has(slice)) return;
          slices.add(slice);
        }
        const id = `${rule.name}:${t.tradeId}`;
        alert(id, seq, `${id}|${rule.kind}|${rule.name}|${rule.severity}|${t.ticker}|${t.volume}|${details}`);
      });
    }
  }

  const windows = new Map<string, Trade[]>();
  for (const { t } of onTime) {
    const start = Math.floor(t.tsMs / interval) * interval;
    const key = `${t.ticker}|${start}`;
    const trades = windows.get(key);
    if (trades === undefined) windows.set(key, [t]);
    else trades.push(t);
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

/** 12345n, 2 → "123.45" */
function decimal(n: bigint, digits: number): string {
  const s = n.toString().padStart(digits + 1, '0');
  return `${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

/** The same four tables, read back from a database in the oracle's text form. */
export const ACTUAL_QUERIES = {
  trades: `SELECT trade_id || '|' || ticker || '|' || price::text || '|' || volume || '|' ||
                  to_char(trade_timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS row FROM stock_trades`,
  alerts: `SELECT concat_ws('|', alert_id, kind, rule, severity, ticker, volume, coalesce(threshold::text, ''), coalesce(amount::text, ''),
                  coalesce(notional::text, ''), coalesce(baseline_mean::text, ''), coalesce(factor::text, ''), coalesce(lookback::text, ''),
                  coalesce(reference_price::text, ''), coalesce(change_percent::text, ''), coalesce(window_seconds::text, '')) AS row
            FROM trade_alerts`,
  candles: `SELECT ticker || '|' || to_char(window_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '|' ||
                   open::text || '|' || high::text || '|' || low::text || '|' || close::text || '|' || volume || '|' ||
                   vwap::text || '|' || trade_count AS row FROM trade_candles`,
  deadLetters: `SELECT source || '|' || source_partition || '|' || source_offset || '|' || reason_code AS row FROM dead_letters`,
} as const;
