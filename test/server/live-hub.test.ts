import { describe, expect, it } from 'vitest';
import { LiveHub } from '../../src/server/live-hub.ts';
import type { AlertJson, CandleJson } from '../../src/server/live-events.ts';

const candle = (ticker: string, close: string, start = '2026-11-25T14:00:00.000Z'): CandleJson => ({
  ticker,
  window_start: start,
  window_end: start,
  open: '1.0000',
  high: close,
  low: '1.0000',
  close,
  volume: 1,
  vwap: '1.0000',
  trade_count: 1,
  closed: false,
});
const alert = (i: number): AlertJson => ({
  alert_id: `large:${i}`,
  kind: 'large_trade',
  rule: 'large',
  severity: 'warning',
  trade_id: String(i),
  ticker: 'AAPL',
  price: '1.0000',
  volume: 2_000_000,
  trade_timestamp: '2026-11-25T14:00:00.000Z',
  threshold: 1_000_000,
  baseline_mean: null,
  detected_at: '2026-11-25T14:00:00.000Z',
  message: 'm',
});

describe('LiveHub (the live feed behind /api/stream)', () => {
  it('coalesces candle updates per window and drops unchanged ones', async () => {
    const hub = new LiveHub();
    const sub = hub.subscribe(null);
    for (let i = 0; i < 1000; i++) hub.publishCandle(candle('AAPL', `${i}.0000`));
    hub.publishCandle(candle('MSFT', '5.0000'));
    hub.flush();
    hub.publishCandle(candle('MSFT', '5.0000'));
    hub.flush();
    const events = (await sub.next(10))!;
    expect(events.map((e) => [e.type, JSON.parse(e.data).ticker, JSON.parse(e.data).close])).toEqual([
      ['candle', 'AAPL', '999.0000'],
      ['candle', 'MSFT', '5.0000'],
    ]);
    hub.close();
  });

  it('caps alerts per flush and counts the rest', async () => {
    const hub = new LiveHub({ maxAlertsPerFlush: 10 });
    const sub = hub.subscribe(null);
    for (let i = 0; i < 1000; i++) hub.publishAlert(alert(i));
    hub.flush();
    const events = (await sub.next(10))!;
    expect(events).toHaveLength(10);
    expect(JSON.parse(events.at(-1)!.data).alert_id).toBe('large:999');
    expect(hub.alertsNotStreamed).toBe(990);
    hub.close();
  });

  it('resumes after an id it still holds, resets on unknown or evicted ids', async () => {
    const hub = new LiveHub({ retain: 5 });
    for (let i = 0; i < 3; i++) hub.publishAlert(alert(i));
    hub.flush();
    const a = (await hub.subscribe(null).next(10))!;
    expect(a).toEqual([]); // a new client gets state (candles, stats), not old alerts
    const ids = (await hub.subscribe(`${hub.epoch}-0`).next(10))!.map((e) => e.id);
    expect(ids).toEqual([`${hub.epoch}-1`, `${hub.epoch}-2`, `${hub.epoch}-3`]);
    expect((await hub.subscribe(`${hub.epoch}-2`).next(10))!.map((e) => e.id)).toEqual([`${hub.epoch}-3`]);
    for (let i = 3; i < 10; i++) hub.publishAlert(alert(i));
    hub.flush();
    expect((await hub.subscribe(`${hub.epoch}-2`).next(10))![0]!.type).toBe('reset'); // evicted
    expect((await hub.subscribe(`${hub.epoch}-99`).next(10))![0]!.type).toBe('reset'); // future
    expect((await hub.subscribe('other-3').next(10))![0]!.type).toBe('reset'); // another server
    hub.close();
  });

  it('cuts off a subscriber that falls too far behind', async () => {
    const hub = new LiveHub({ maxQueuePerSubscriber: 5, maxAlertsPerFlush: 100 });
    const sub = hub.subscribe(null);
    for (let i = 0; i < 6; i++) hub.publishAlert(alert(i));
    hub.flush();
    expect(sub.overflowed).toBe(true);
    expect(await sub.next(10)).toBeNull();
    expect(hub.subscriberCount).toBe(0);
    hub.close();
  });
});
