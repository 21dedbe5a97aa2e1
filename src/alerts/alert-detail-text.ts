import type { AlertJson } from '../kafka/alert-json.ts';

const count = new Intl.NumberFormat('en-US');

/** What made the alert, in a few words: "> 1,000,000", "+2.01 % from 187.2300 in 60 s", … */
export function alertDetailText(a: AlertJson): string {
  switch (a.kind) {
    case 'large_trade':
      return a.threshold === undefined ? '' : `> ${count.format(a.threshold)}`;
    case 'notional':
      return a.notional === undefined ? '' : `${a.notional} > ${a.amount}`;
    case 'volume_spike':
      return a.baseline_mean === undefined ? '' : `> ${a.factor}× mean ${a.baseline_mean} of last ${a.lookback}`;
    case 'price_move':
      return a.change_percent === undefined
        ? ''
        : `${a.change_percent.startsWith('-') ? '' : '+'}${a.change_percent} % from ${a.reference_price} in ${a.window_seconds} s`;
    default:
      return '';
  }
}
