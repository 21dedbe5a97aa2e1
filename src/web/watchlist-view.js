import { formatChange, formatCompact, formatCount, formatPrice } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';
const SPARK_W = 64;
const SPARK_H = 18;

/**
 * The watchlist: one row per ticker, in ticker order, kept from /api/watchlist and the
 * stream's `watchlist` rows (each a whole row: the server computes every figure). Clicking a
 * row picks its ticker. The exact figures are on the row as data attributes; the cells show
 * them shortened.
 */
export class WatchlistView {
  constructor(tbody, onPick) {
    this.tbody = tbody;
    this.rows = new Map();
    this.active = null;
    const pick = (e) => {
      const tr = e.target.closest('tr');
      if (tr && this.rows.get(tr.dataset.ticker) === tr) onPick(tr.dataset.ticker);
    };
    tbody.addEventListener('click', pick);
    tbody.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        pick(e);
      }
    });
  }

  replaceAll(rows) {
    this.tbody.replaceChildren();
    this.rows.clear();
    for (const r of rows) this.update(r);
  }

  update(r) {
    const tr = document.createElement('tr');
    tr.dataset.ticker = r.ticker;
    tr.tabIndex = 0;
    tr.dataset.last = r.last;
    tr.dataset.changePct = r.change_pct;
    tr.dataset.volume = String(r.volume);
    tr.dataset.vwap = r.vwap;
    tr.dataset.alerts = String(r.alerts);
    tr.title = `${r.ticker} · session ${r.session} (UTC) · open ${formatPrice(r.open)} · volume ${formatCount(r.volume)}`;
    const dir = r.change_pct.startsWith('-') ? 'down' : Number(r.change_pct) > 0 ? 'up' : 'flat';
    const cells = [
      [r.ticker, 'sym'],
      [formatPrice(r.last), 'num'],
      [formatChange(r.change_pct), `num chg ${dir}`],
      [formatCompact(r.volume), 'num'],
      [formatPrice(r.vwap), 'num'],
      [formatCount(r.alerts), r.alerts > 0 ? 'num has-alerts' : 'num'],
    ];
    for (const [text, cls] of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      td.className = cls;
      tr.append(td);
    }
    const spark = document.createElement('td');
    spark.className = 'spark';
    spark.append(sparkline(r.spark, dir));
    tr.append(spark);
    if (r.ticker === this.active) tr.classList.add('active');

    const old = this.rows.get(r.ticker);
    if (old) old.replaceWith(tr);
    else this.tbody.insertBefore(tr, [...this.tbody.rows].find((x) => x.dataset.ticker > r.ticker) ?? null);
    this.rows.set(r.ticker, tr);
  }

  setActive(ticker) {
    this.active = ticker;
    for (const [t, tr] of this.rows) tr.classList.toggle('active', t === ticker);
  }
}

/** Closes as a line; the scale is the row's own range (shape, not size, is what it shows). */
function sparkline(closes, dir) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('width', String(SPARK_W));
  svg.setAttribute('height', String(SPARK_H));
  svg.setAttribute('viewBox', `0 0 ${SPARK_W} ${SPARK_H}`);
  svg.setAttribute('aria-hidden', 'true');
  svg.dataset.points = String(closes.length);
  const ys = closes.map(Number);
  const lo = Math.min(...ys);
  const span = Math.max(...ys) - lo || 1;
  const step = closes.length > 1 ? SPARK_W / (closes.length - 1) : 0;
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('points', ys.map((y, i) => `${(i * step).toFixed(1)},${(SPARK_H - 1 - ((y - lo) / span) * (SPARK_H - 2)).toFixed(1)}`).join(' '));
  line.setAttribute('class', `spark-line ${dir}`);
  svg.append(line);
  return svg;
}
