import { type Alert, type Candle, type DeadLetter, type EngineOutput, tradeCount } from '../engine/records.ts';
import { DETAIL_COLUMN_NAMES } from '../rules/alert-columns.ts';
import { alertDetailValues } from '../rules/alert.ts';
import { formatPriceE4, formatTimestamp } from '../trade/trade.ts';
import { TradeCopyRows } from './trade-copy-binary.ts';
import { ALERT_COLUMNS, type EncodedOutput } from './write-output.ts';

/**
 * A batch as both backends send it, built on the engine's thread: binary COPY rows for the hot
 * table (trade-copy-binary.ts), column arrays for `unnest` inserts of the small ones. Plain
 * data, so that it can cross to PGlite's thread.
 */
export function encodeOutput(out: EngineOutput): EncodedOutput {
  const count = tradeCount(out);
  return {
    trades: count > 0 ? tradesCopy(out) : null,
    tradeCount: count,
    alerts: out.alerts.length > 0 ? alertParams(out.alerts) : null,
    candles: out.candles.length > 0 ? candleParams(out.candles) : null,
    deadLetters: out.deadLetters.length > 0 ? deadLetterParams(out.deadLetters) : null,
  };
}

/** The output's trades as one binary COPY stream: those taken early as they are, unless more follow. */
function tradesCopy(out: EngineOutput): Uint8Array {
  const earlier = out.earlierTrades;
  if (earlier !== undefined && out.trades.length === 0) return earlier.copy;
  const rows = new TradeCopyRows(out.trades.length);
  if (earlier !== undefined) rows.appendEncoded(earlier);
  rows.append(out.trades);
  return rows.take().copy;
}

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
