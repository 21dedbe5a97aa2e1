import { AlertFeed, ruleOf } from './alert-feed.js';
import { AlertFilters } from './alert-filters.js';
import { ChartView } from './chart-view.js';
import { formatCount, formatPrice, formatTime } from './format.js';
import { WatchlistView } from './watchlist-view.js';

/**
 * The dashboard: history from the JSON API, then live updates from /api/stream. The stream is
 * opened first and every update is idempotent (candles by window, alerts by id), so nothing
 * falls in the gap between loading history and going live.
 */
const $ = (id) => document.getElementById(id);
const select = $('ticker');
const chart = new ChartView($('chart'));
const feed = new AlertFeed(document.querySelector('#alerts tbody'));
const filters = new AlertFilters({ rule: $('filter-rule'), kind: $('filter-kind'), ticker: $('filter-ticker') }, (f) => {
  feed.filter = f;
  reloadFeed().catch(showError);
});
const watchlist = new WatchlistView(document.querySelector('#watchlist tbody'), (t) => pickTicker(t));
const tickers = new Set();
let intervalMs = 60_000;
let loading = Promise.resolve();
let loaded = false;
let feedGeneration = 0;

chart.onAnnotate = (last) => {
  $('chart-ticker').textContent = chart.ticker ?? '';
  $('chart-last').textContent = last ? `close ${formatPrice(last.close)} · vwap ${formatPrice(last.vwap)} · ${formatCount(last.trade_count)} trades` : '';
  $('chart-empty').hidden = last !== null;
  if (watchlist.active !== chart.ticker) watchlist.setActive(chart.ticker);
};

async function getJson(path) {
  const r = await fetch(path, { headers: { accept: 'application/json' } });
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
}

function addTicker(t) {
  if (tickers.has(t)) return;
  tickers.add(t);
  const option = document.createElement('option');
  option.value = t;
  option.textContent = t;
  // Keep the list sorted.
  const after = [...select.options].find((o) => o.value > t);
  select.insertBefore(option, after ?? null);
  filters.add('ticker', t);
  // Before the first load the history decides what to show; after it, the first ticker to trade.
  if (loaded && chart.ticker === null) {
    select.value = t;
    loading = showTicker(t);
  }
}

async function showTicker(t) {
  const [c, a] = await Promise.all([
    getJson(`/api/candles?ticker=${encodeURIComponent(t)}&limit=500`),
    getJson(`/api/alerts?ticker=${encodeURIComponent(t)}&limit=300`),
  ]);
  intervalMs = c.interval_ms ?? intervalMs;
  chart.show(t, [...c.candles, ...c.forming], a.alerts, intervalMs);
  const wanted = new URL(location.href);
  wanted.hash = t;
  history.replaceState(null, '', wanted);
}

function pickTicker(t) {
  if (!tickers.has(t)) return;
  select.value = t;
  loading = showTicker(t).catch(showError);
}

function noteAlert(a) {
  filters.add('rule', ruleOf(a));
  filters.add('kind', a.kind);
  filters.add('ticker', a.ticker);
}

/** The feed's history under the current filters; a reload started later wins over one still loading. */
async function reloadFeed() {
  const generation = ++feedGeneration;
  const q = filters.query();
  const a = await getJson(`/api/alerts?limit=50${q ? `&${q}` : ''}`);
  if (generation !== feedGeneration) return;
  feed.clear();
  for (const alert of a.alerts) {
    noteAlert(alert);
    feed.add(alert, false);
  }
  document.body.dataset.feedFilter = q;
}

async function loadAll() {
  const [t, w] = await Promise.all([getJson('/api/tickers'), getJson('/api/watchlist'), reloadFeed()]);
  watchlist.replaceAll(w.tickers);
  const fromHash = decodeURIComponent(location.hash.slice(1));
  for (const x of [...t.tickers, ...w.tickers]) addTicker(x.ticker);
  const first = tickers.has(fromHash) ? fromHash : (chart.ticker ?? select.options[0]?.value ?? null);
  if (first !== null) {
    select.value = first;
    loading = showTicker(first);
    await loading;
  }
  loaded = true;
  document.body.dataset.ready = 'true';
}

function showStats(s) {
  $('c-rate').textContent = formatCount(s.trades_per_s);
  $('c-stored').textContent = formatCount(s.stored);
  $('c-alerts').textContent = formatCount(s.alerts);
  $('c-dead').textContent = formatCount(s.dead_letters);
  $('c-late').textContent = formatCount(s.late);
  $('c-lag').textContent = s.sink_lag_records === null ? '–' : formatCount(s.sink_lag_records);
  $('c-watermark').textContent = formatTime(s.watermark);
  $('feed-note').textContent = s.alerts_not_streamed > 0 ? `(busy: ${formatCount(s.alerts_not_streamed)} not streamed, all stored)` : '';
}

// Stream events are applied once per animation frame: a burst of events costs one redraw.
const pendingCandles = new Map();
let pendingAlerts = [];
let drawScheduled = false;

function scheduleDraw() {
  if (drawScheduled) return;
  drawScheduled = true;
  requestAnimationFrame(() => {
    // Apply after the shown ticker's history is in place (or its loading failed: draw anyway).
    const draw = () => {
      drawScheduled = false;
      const candles = [...pendingCandles.values()];
      const alerts = pendingAlerts;
      pendingCandles.clear();
      pendingAlerts = [];
      for (const c of candles) chart.updateCandle(c);
      for (const a of alerts) {
        noteAlert(a);
        feed.add(a, true);
      }
      chart.addAlerts(alerts);
    };
    loading.then(draw, draw);
  });
}

function connect() {
  const conn = $('connection');
  const stream = new EventSource('/api/stream');
  stream.addEventListener('open', () => {
    conn.dataset.state = 'live';
    conn.textContent = 'live';
  });
  stream.addEventListener('error', () => {
    // EventSource reconnects by itself, sending Last-Event-ID to resume.
    conn.dataset.state = 'offline';
    conn.textContent = 'reconnecting…';
  });
  stream.addEventListener('candle', (e) => {
    const c = JSON.parse(e.data);
    addTicker(c.ticker);
    pendingCandles.set(`${c.ticker}|${c.window_start}`, c);
    scheduleDraw();
  });
  stream.addEventListener('alert', (e) => {
    pendingAlerts.push(JSON.parse(e.data));
    scheduleDraw();
  });
  stream.addEventListener('stats', (e) => showStats(JSON.parse(e.data)));
  stream.addEventListener('watchlist', (e) => {
    const row = JSON.parse(e.data);
    addTicker(row.ticker);
    watchlist.update(row);
  });
  stream.addEventListener('reset', () => {
    loadAll().catch(showError);
  });
}

function showError(e) {
  const conn = $('connection');
  conn.dataset.state = 'offline';
  conn.textContent = `error: ${e.message}`;
}

select.addEventListener('change', () => pickTicker(select.value));

connect();
loadAll().catch(showError);
getJson('/api/stats')
  .then(showStats)
  .catch(() => {});
