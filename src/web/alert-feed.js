import { KIND_LABEL, SEVERITIES, formatCount, formatPrice, formatTime } from './format.js';

const MAX_ROWS = 100;

/** The rule an alert came from; alerts from before rules existed carry it only in their id. */
export function ruleOf(alert) {
  return typeof alert.rule === 'string' && alert.rule !== '' ? alert.rule : String(alert.alert_id).split(':')[0];
}

/**
 * The alert feed, newest first, showing only alerts that pass the filter (rule, kind, ticker;
 * an empty value passes all). Rows are built with textContent only: alert fields come from the
 * trade stream and are never interpreted as HTML.
 */
export class AlertFeed {
  constructor(tbody) {
    this.tbody = tbody;
    this.seen = new Set();
    this.filter = { rule: '', kind: '', ticker: '' };
  }

  matches(alert) {
    const f = this.filter;
    return (f.rule === '' || ruleOf(alert) === f.rule) && (f.kind === '' || alert.kind === f.kind) && (f.ticker === '' || alert.ticker === f.ticker);
  }

  /** Alerts may arrive twice (history, then the stream); the alert_id is stable. */
  add(alert, fresh) {
    if (this.seen.has(alert.alert_id) || !this.matches(alert)) return;
    this.seen.add(alert.alert_id);
    const tr = document.createElement('tr');
    if (Object.hasOwn(KIND_LABEL, alert.kind)) tr.className = alert.kind;
    if (fresh) tr.classList.add('fresh');
    tr.dataset.alertId = alert.alert_id;
    tr.dataset.rule = ruleOf(alert);
    tr.dataset.kind = alert.kind;
    tr.dataset.ticker = alert.ticker;
    tr.title = alert.message;
    const severity = SEVERITIES.includes(alert.severity) ? alert.severity : '';
    const cells = [
      [formatTime(alert.trade_timestamp), ''],
      [ruleOf(alert), 'rule'],
      [alert.severity ?? '–', severity ? `sev sev-${severity}` : 'sev'],
      [KIND_LABEL[alert.kind] ?? alert.kind, 'kind'],
      [alert.ticker, 'sym'],
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
