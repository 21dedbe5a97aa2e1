import { KIND_LABEL, formatCount, formatPrice, formatTime } from './format.js';

const MAX_ROWS = 100;

/**
 * The alert feed, newest first. Rows are built with textContent only: alert fields come from
 * the trade stream and are never interpreted as HTML.
 */
export class AlertFeed {
  constructor(tbody) {
    this.tbody = tbody;
    this.seen = new Set();
  }

  /** Alerts may arrive twice (history, then the stream); the alert_id is stable. */
  add(alert, fresh) {
    if (this.seen.has(alert.alert_id)) return;
    this.seen.add(alert.alert_id);
    const tr = document.createElement('tr');
    tr.className = alert.kind === 'large_trade' || alert.kind === 'volume_spike' ? alert.kind : '';
    if (fresh) tr.classList.add('fresh');
    tr.dataset.alertId = alert.alert_id;
    tr.title = alert.message;
    const cells = [
      [formatTime(alert.trade_timestamp), ''],
      [KIND_LABEL[alert.kind] ?? alert.kind, 'kind'],
      [alert.ticker, ''],
      [formatCount(alert.volume), 'num'],
      [formatPrice(alert.price), 'num'],
    ];
    for (const [text, cls] of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      if (cls) td.className = cls;
      tr.append(td);
    }
    this.#insert(tr, alert.trade_timestamp);
    while (this.tbody.rows.length > MAX_ROWS) {
      const last = this.tbody.lastElementChild;
      this.seen.delete(last.dataset.alertId);
      last.remove();
    }
  }

  clear() {
    this.tbody.replaceChildren();
    this.seen.clear();
  }

  // Keep newest first by trade time even when history and stream interleave.
  #insert(tr, ts) {
    tr.dataset.ts = ts;
    for (const row of this.tbody.rows) {
      if (row.dataset.ts <= ts) {
        row.before(tr);
        return;
      }
    }
    this.tbody.append(tr);
  }
}
