import { formatTimestamp } from './trade.ts';

/**
 * `formatTimestamp` (Date#toISOString) for a stream of nearby times: consecutive trades mostly
 * share their minute, whose text is kept, so a line costs two small numbers instead of a Date.
 * The simulator's lines use it: toISOString per trade was the largest item of the end-to-end
 * PostgreSQL run's profile.
 */
export class IsoTimestampText {
  #minuteMs = Number.NaN;
  #prefix = '';

  format(ms: number): string {
    // Date truncates a fraction of a millisecond; the arithmetic below would print it.
    if (!Number.isInteger(ms)) return formatTimestamp(ms);
    const minuteMs = Math.floor(ms / 60_000) * 60_000;
    if (minuteMs !== this.#minuteMs) {
      this.#minuteMs = minuteMs;
      // "…T14:07:00.000Z" without "00.000Z"
      this.#prefix = formatTimestamp(minuteMs).slice(0, -7);
    }
    const rest = ms - minuteMs;
    const sec = Math.floor(rest / 1000);
    const milli = rest - sec * 1000;
    return `${this.#prefix}${sec < 10 ? '0' : ''}${sec}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
  }
}
