import { KIND_LABEL } from './format.js';

/**
 * The feed's filter menus (rule, kind, ticker). Options grow as rules, kinds and tickers are
 * seen; a chosen value stays an option even when nothing on screen has it any more.
 */
export class AlertFilters {
  constructor(selects, onChange) {
    this.selects = selects;
    for (const [kind, label] of Object.entries(KIND_LABEL)) this.add('kind', kind, label);
    for (const s of Object.values(selects)) s.addEventListener('change', () => onChange(this.value()));
  }

  value() {
    return { rule: this.selects.rule.value, kind: this.selects.kind.value, ticker: this.selects.ticker.value };
  }

  /** The API's query for the chosen filters (empty ones left out). */
  query() {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(this.value())) if (v !== '') q.set(k, v);
    return q.toString();
  }

  add(name, value, label = value) {
    const select = this.selects[name];
    if (typeof value !== 'string' || value === '' || [...select.options].some((o) => o.value === value)) return;
    const option = document.createElement('option');
    option.value = value;
    option.textContent = label;
    // "all" stays first; the rest sorted.
    const after = [...select.options].slice(1).find((o) => o.value > value);
    select.insertBefore(option, after ?? null);
  }
}
