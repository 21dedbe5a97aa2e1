/**
 * A Prometheus-style cumulative histogram of sink batch latency (seconds). The pipeline keeps
 * only a sliding window of write times; metrics need totals since the start.
 */
export class LatencyHistogram {
  /** Upper bounds in seconds: from a tiny PGlite batch to a database stalling. */
  static readonly BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
  readonly counts: number[] = LatencyHistogram.BOUNDS.map(() => 0);
  count = 0;
  sum = 0;

  observe(seconds: number): void {
    this.count++;
    this.sum += seconds;
    const b = LatencyHistogram.BOUNDS;
    for (let i = 0; i < b.length; i++) if (seconds <= b[i]!) this.counts[i]!++;
  }
}
