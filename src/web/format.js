// Display formatting. Prices arrive as exact decimal strings; they are shown, never re-rounded.
const counts = new Intl.NumberFormat('en-US');

export function formatCount(n) {
  return n === null || n === undefined ? '–' : counts.format(n);
}

/** "187.2300" → "187.23" (trailing zeros of the 4-decimal scale add nothing on screen). */
export function formatPrice(s) {
  return String(s).replace(/(\.\d\d\d*?)0+$/, '$1');
}

export function formatTime(iso) {
  return typeof iso === 'string' && iso.length >= 19 ? iso.slice(11, 19) : '–';
}

export const KIND_LABEL = { large_trade: 'large trade', volume_spike: 'volume spike' };
