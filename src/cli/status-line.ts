import type { RunSummary } from '../pipeline/run-pipeline.ts';

const fmt = new Intl.NumberFormat('en-US');

export function formatCount(n: number): string {
  return fmt.format(n);
}

export function statusText(s: RunSummary, ratePerS: number, watermarkMs: number): string {
  const wm = Number.isFinite(watermarkMs) ? new Date(watermarkMs).toISOString().slice(11, 19) : '--:--:--';
  return (
    `${fmt.format(s.read)} read · ${fmt.format(s.stored)} stored · ${fmt.format(s.alerts)} alerts · ` +
    `${fmt.format(s.dead_letters)} dead letters · ${fmt.format(s.late)} late · ${fmt.format(s.candles)} candles · ` +
    `${fmt.format(Math.round(ratePerS))}/s · watermark ${wm}`
  );
}

/**
 * A live status line on stderr: rewritten in place on a terminal, a plain line every few
 * seconds otherwise (logs stay readable).
 */
export class StatusLine {
  readonly #tty: boolean;
  readonly #timer: NodeJS.Timeout;
  #lastRead = 0;
  #lastAt = performance.now();
  #lastPlain = 0;

  constructor(read: () => { summary: RunSummary; watermarkMs: number }, intervalMs = 500) {
    this.#tty = process.stderr.isTTY === true;
    this.#timer = setInterval(() => {
      const { summary, watermarkMs } = read();
      const now = performance.now();
      const rate = ((summary.read - this.#lastRead) / (now - this.#lastAt)) * 1000;
      this.#lastRead = summary.read;
      this.#lastAt = now;
      const text = statusText(summary, rate, watermarkMs);
      if (this.#tty) {
        process.stderr.write(`\r\x1b[2K${text}`);
      } else if (now - this.#lastPlain >= 5_000) {
        this.#lastPlain = now;
        process.stderr.write(`${text}\n`);
      }
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    if (this.#tty) process.stderr.write('\r\x1b[2K');
  }
}
