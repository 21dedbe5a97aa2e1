// Display formatting. Prices arrive as exact decimal strings; they are shown, never re-rounded.
const counts = new Intl.NumberFormat('en-US');
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export function formatCount(n) {
  return n === null || n === undefined ? '–' : counts.format(n);
}

/** 12,345,678 → "12.3M": for narrow columns; the exact figure goes in a title or data attribute. */
export function formatCompact(n) {
  return n === null || n === undefined ? '–' : compact.format(n);
}

/** "187.2300" → "187.23" (trailing zeros of the 4-decimal scale add nothing on screen). */
export function formatPrice(s) {
  return String(s).replace(/(\.\d\d\d*?)0+$/, '$1');
}

/** "1.20" → "+1.20%", "-0.45" → "−0.45%" (the server's two decimals, as sent). */
export function formatChange(pct) {
  const s = String(pct);
  if (s.startsWith('-')) return `−${s.slice(1)}%`;
  return Number(s) > 0 ? `+${s}%` : `${s}%`;
}

export function formatTime(iso) {
  return typeof iso === 'string' && iso.length >= 19 ? iso.slice(11, 19) : '–';
}

export const KIND_LABEL = { large_trade: 'large trade', notional: 'notional', volume_spike: 'volume spike', price_move: 'price move' };

export const SEVERITIES = ['info', 'warning', 'critical'];
