import { formatPrice } from './format.js';

const { createChart, createSeriesMarkers, CandlestickSeries, HistogramSeries, CrosshairMode } = window.LightweightCharts;

const UP = '#26a69a';
const DOWN = '#ef5350';
const MAX_MARKERS = 300;

const seconds = (iso) => Math.floor(Date.parse(iso) / 1000);

/**
 * One ticker's candlesticks with a volume histogram underneath and alert markers. Bars are kept
 * by time so an update to an older bar (a window closing after the next one started forming)
 * is applied in place instead of tripping the chart's "newest bar only" rule.
 */
export class ChartView {
  constructor(container) {
    this.container = container;
    this.chart = createChart(container, {
      autoSize: true,
      layout: { background: { color: '#161c23' }, textColor: '#d6dde4' },
      grid: { vertLines: { color: '#1f2730' }, horzLines: { color: '#1f2730' } },
      crosshair: { mode: CrosshairMode.Normal },
      timeScale: { timeVisible: true, secondsVisible: false, rightOffset: 4 },
      rightPriceScale: { scaleMargins: { top: 0.08, bottom: 0.28 } },
    });
    this.candles = this.chart.addSeries(CandlestickSeries, {
      upColor: UP,
      downColor: DOWN,
      borderVisible: false,
      wickUpColor: UP,
      wickDownColor: DOWN,
    });
    this.volume = this.chart.addSeries(HistogramSeries, { priceFormat: { type: 'volume' }, priceScaleId: 'volume' });
    this.chart.priceScale('volume').applyOptions({ scaleMargins: { top: 0.78, bottom: 0 } });
    this.markers = createSeriesMarkers(this.candles, []);
    this.ticker = null;
    this.bars = new Map();
    this.alertMarks = new Map();
    this.intervalS = 60;
  }

  /** Replace everything: a new ticker, or a reload after the stream could not resume. */
  show(ticker, candles, alerts, intervalMs) {
    this.ticker = ticker;
    this.intervalS = Math.max(1, Math.round((intervalMs ?? 60_000) / 1000));
    this.bars = new Map();
    for (const c of candles) this.bars.set(seconds(c.window_start), c);
    this.alertMarks = new Map();
    for (const a of alerts) this.#mark(a);
    this.#redraw();
    this.markers.setMarkers(this.#markerList());
    this.chart.timeScale().fitContent();
  }

  /** A forming or closed candle of the shown ticker. */
  updateCandle(c) {
    if (c.ticker !== this.ticker) return;
    const t = seconds(c.window_start);
    const known = this.bars.has(t);
    const newest = this.bars.size === 0 ? -Infinity : Math.max(...this.bars.keys());
    this.bars.set(t, c);
    if (t >= newest) {
      this.candles.update(candleBar(t, c));
      this.volume.update(volumeBar(t, c));
    } else if (known) {
      this.candles.update(candleBar(t, c), true);
      this.volume.update(volumeBar(t, c), true);
    } else {
      this.#redraw();
    }
    this.#annotate();
  }

  /** New alerts; the markers are redrawn once for the lot. */
  addAlerts(alerts) {
    let changed = false;
    for (const a of alerts) {
      if (a.ticker !== this.ticker || this.alertMarks.has(a.alert_id)) continue;
      this.#mark(a);
      changed = true;
    }
    if (changed) this.markers.setMarkers(this.#markerList());
  }

  #mark(a) {
    // A marker sits on the bar of the window the trade fell in.
    const t = Math.floor(seconds(a.trade_timestamp) / this.intervalS) * this.intervalS;
    this.alertMarks.set(a.alert_id, {
      time: t,
      position: 'aboveBar',
      color: a.kind === 'large_trade' ? '#f0b429' : '#7cb7ff',
      shape: a.kind === 'large_trade' ? 'arrowDown' : 'circle',
      size: 0.6,
    });
    if (this.alertMarks.size > MAX_MARKERS) this.alertMarks.delete(this.alertMarks.keys().next().value);
  }

  // At most two markers per bar and kind: a busy minute should not grow a tower over its candle.
  #markerList() {
    const perBar = new Map();
    const out = [];
    for (const m of this.alertMarks.values()) {
      if (!this.bars.has(m.time)) continue;
      const key = `${m.time}|${m.shape}`;
      const n = perBar.get(key) ?? 0;
      perBar.set(key, n + 1);
      if (n < 2) out.push(m);
    }
    return out.sort((x, y) => x.time - y.time);
  }

  #redraw() {
    const times = [...this.bars.keys()].sort((x, y) => x - y);
    this.candles.setData(times.map((t) => candleBar(t, this.bars.get(t))));
    this.volume.setData(times.map((t) => volumeBar(t, this.bars.get(t))));
    this.#annotate();
  }

  // What the page shows, as attributes a test (or a curious user) can read.
  #annotate() {
    const times = [...this.bars.keys()];
    const last = times.length === 0 ? null : this.bars.get(Math.max(...times));
    this.container.dataset.ticker = this.ticker ?? '';
    this.container.dataset.bars = String(times.length);
    this.container.dataset.lastClose = last ? last.close : '';
    this.onAnnotate?.(last);
  }
}

function candleBar(t, c) {
  return { time: t, open: Number(c.open), high: Number(c.high), low: Number(c.low), close: Number(c.close) };
}

function volumeBar(t, c) {
  return { time: t, value: Number(c.volume), color: Number(c.close) >= Number(c.open) ? `${UP}88` : `${DOWN}88` };
}

export { formatPrice };
