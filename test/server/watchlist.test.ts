import { describe, expect, it } from 'vitest';
import type { AlertJson, CandleJson } from '../../src/server/live-events.ts';
import { changePercent, Watchlist } from '../../src/server/watchlist.ts';

const MIN = 60_000;
const DAY0 = Date.UTC(2026, 10, 25);

function candle(ticker: string, startMs: number, open: string, close: string, volume: number, vwap: string): CandleJson {
  return {
    ticker,
    window_start: new Date(startMs).toISOString(),
    window_end: new Date(startMs + MIN).toISOString(),
    open,
    high: open,
    low: close,
    close,
    volume,
    vwap,
    trade_count: 1,
    closed: true,
  };
}

function alert(id: string, ticker: string, tsMs: number): AlertJson {
  return {
    alert_id: id,
    kind: 'large_trade',
    rule: 'large',
    severity: 'warning',
    trade_id: id,
    ticker,
    price: '1.0000',
    volume: 2_000_000,
    trade_timestamp: new Date(tsMs).toISOString(),
    threshold: 1_000_000,
    baseline_mean: null,
    detected_at: new Date(tsMs).toISOString(),
    message: 'm',
  };
}

describe('Watchlist (session figures from candles and alerts)', () => {
  it('sums the session exactly, replaces a window seen again, and counts an alert_id once', () => {
    const w = new Watchlist();
    const t = DAY0 + 14 * 3_600_000;
    w.candle(candle('AAPL', t, '100.0000', '101.0000', 3, '100.3333'));
    w.candle(candle('AAPL', t + MIN, '101.0000', '99.0001', 1, '100.0001'));
    // The forming state of the second window, then its close: the close replaces it.
    w.candle(candle('AAPL', t + MIN, '101.0000', '98.5000', 7, '99.5000'));
    w.alert(alert('large:1', 'AAPL', t + 5));
    w.alert(alert('large:1', 'AAPL', t + 5));
    w.alert(alert('large:2', 'AAPL', t - 86_400_000)); // yesterday: not this session's
    expect(w.row('AAPL')).toEqual({
      ticker: 'AAPL',
      session: '2026-11-25',
      open: '100.0000',
      last: '98.5000',
      change_pct: '-1.50',
      volume: 10,
      // (100.3333 × 3 + 99.5 × 7) / 10 = 99.74999 → 99.7500
      vwap: '99.7500',
      alerts: 1,
      spark: ['101.0000', '98.5000'],
      last_window_start: new Date(t + MIN).toISOString(),
    });
  });

  it('starts a new session with the first candle of a later UTC day, keeping alerts that came first', () => {
    const w = new Watchlist();
    w.candle(candle('MSFT', DAY0 + 23 * 3_600_000, '10.0000', '11.0000', 5, '10.5000'));
    w.alert(alert('large:a', 'MSFT', DAY0 + 86_400_000 + 10));
    expect(w.row('MSFT')!.alerts).toBe(0);
    w.candle(candle('MSFT', DAY0 + 86_400_000, '12.0000', '12.1200', 2, '12.0600'));
    expect(w.row('MSFT')).toMatchObject({ session: '2026-11-26', open: '12.0000', last: '12.1200', change_pct: '1.00', volume: 2, vwap: '12.0600', alerts: 1 });
    // A late candle of the old day no longer counts.
    w.candle(candle('MSFT', DAY0 + 23 * 3_600_000 + MIN, '11.0000', '11.0000', 100, '11.0000'));
    expect(w.row('MSFT')!.volume).toBe(2);
  });

  it('keeps exact totals over more windows than it keeps one by one', () => {
    const w = new Watchlist();
    let volume = 0n;
    let notional = 0n;
    for (let i = 0; i < 500; i++) {
      const v = 1_000 + i;
      const vwapE4 = 1_000_000 + i * 37;
      volume += BigInt(v);
      notional += BigInt(v) * BigInt(vwapE4);
      w.candle(candle('NVDA', DAY0 + i * MIN, '100.0000', `${(vwapE4 / 10_000).toFixed(4)}`, v, `${(vwapE4 / 10_000).toFixed(4)}`));
    }
    const r = w.row('NVDA')!;
    expect(r.volume).toBe(Number(volume));
    const q = (notional * 2n + volume) / (2n * volume);
    expect(r.vwap).toBe(`${q / 10_000n}.${String(q % 10_000n).padStart(4, '0')}`);
    expect(r.spark).toHaveLength(30);
    expect(r.spark.at(-1)).toBe(`${((1_000_000 + 499 * 37) / 10_000).toFixed(4)}`);
  });

  it('merges the database snapshot under what the stream delivered first', () => {
    const w = new Watchlist();
    const t = DAY0 + 10 * 3_600_000;
    w.candle(candle('AAPL', t + MIN, '5.0000', '6.0000', 4, '5.5000'));
    w.alert(alert('large:live', 'AAPL', t + MIN + 1));
    w.load({
      candles: [candle('AAPL', t, '4.0000', '5.0000', 6, '4.5000'), candle('AAPL', t + MIN, '5.0000', '5.2000', 1, '5.1000')],
      alertCounts: [{ ticker: 'AAPL', session_ms: DAY0, alerts: 3 }],
      recentAlerts: [{ alert_id: 'large:live', ticker: 'AAPL', trade_timestamp: new Date(t + MIN + 1).toISOString() }],
    });
    expect(w.row('AAPL')).toMatchObject({ open: '4.0000', last: '6.0000', change_pct: '50.00', volume: 10, vwap: '4.9000', alerts: 3 });
    expect(w.loaded).toBe(true);
    expect(w.drainChanged().map((r) => r.ticker)).toEqual(['AAPL']);
    expect(w.drainChanged()).toEqual([]);
  });

  it.each([
    [1_000_050, 1_000_000, '0.01'], // 0.005 % rounds up
    [999_950, 1_000_000, '-0.01'], // and away from zero below
    [999_951, 1_000_000, '0.00'],
    [1_500_000, 1_000_000, '50.00'],
    [1, 3, '-66.67'],
  ])('changePercent(%i, %i) = %s', (last, open, expected) => {
    expect(changePercent(last, open)).toBe(expected);
  });
});
