import { formatCount } from './status-line.ts';

/**
 * A progress bar with the current rate, redrawn on stderr while it is a terminal; nothing
 * otherwise (the command prints one plain final line instead, which logs keep well).
 */
export class ProgressLine {
  readonly #timer: NodeJS.Timeout | null;
  #lastN = 0;
  #lastAt = performance.now();

  constructor(done: () => number, total: number | null, intervalMs = 250) {
    if (process.stderr.isTTY !== true) {
      this.#timer = null;
      return;
    }
    this.#timer = setInterval(() => {
      const n = done();
      const now = performance.now();
      const rate = ((n - this.#lastN) / (now - this.#lastAt)) * 1000;
      this.#lastN = n;
      this.#lastAt = now;
      const width = 30;
      let bar = '';
      if (total !== null && total > 0) {
        const filled = Math.min(width, Math.round((n / total) * width));
        bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.min(100, Math.floor((n / total) * 100))
          .toString()
          .padStart(3)}% `;
      }
      const of = total !== null ? `/${formatCount(total)}` : '';
      process.stderr.write(`\r\x1b[2K${bar}${formatCount(n)}${of} · ${formatCount(Math.round(rate))}/s`);
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer === null) return;
    clearInterval(this.#timer);
    process.stderr.write('\r\x1b[2K');
  }
}
