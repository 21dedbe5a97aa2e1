/**
 * What the dashboard counters, /api/stats and /metrics show. A field is null where the feed
 * cannot know it (a database filled by Flink knows nothing of records read or late).
 */
export interface LiveStats {
  /** embedded: this process runs the pipeline; database: another process fills the tables. */
  source: 'embedded' | 'database';
  pipeline: 'running' | 'finished';
  time: string;
  read: number | null;
  stored: number;
  duplicates: number | null;
  dead_letters: number;
  dead_letters_by_reason: Record<string, number>;
  late: number | null;
  alerts: number;
  alerts_by_kind: Record<string, number>;
  candles: number;
  /** Records per second over the last few seconds (read when known, stored otherwise). */
  trades_per_s: number;
  /** Records read but not yet committed to the database. */
  sink_lag_records: number | null;
  /** Database writes retried after a transient failure (embedded runs only). */
  sink_retries: number | null;
  /** Seconds the database has been refusing writes; 0 when writes succeed (embedded runs only). */
  sink_unavailable_s: number | null;
  /** Kafka consumer lag, where the source is a consumer. */
  consumer_lag: number | null;
  watermark: string | null;
  /** Alerts left out of the live stream to keep it small (they are stored and in the API). */
  alerts_not_streamed: number;
}

/**
 * Records per second from successive totals, over a sliding window of samples so the figure
 * neither jitters with batch boundaries nor lags by much.
 */
export class RateMeter {
  readonly #samples: { at: number; total: number }[] = [];
  readonly #windowMs: number;

  constructor(windowMs = 3_000) {
    this.#windowMs = windowMs;
  }

  sample(total: number, at = performance.now()): number {
    const s = this.#samples;
    s.push({ at, total });
    while (s.length > 2 && at - s[1]!.at >= this.#windowMs) s.shift();
    const first = s[0]!;
    const dt = at - first.at;
    return dt > 0 ? Math.round(((total - first.total) / dt) * 1000) : 0;
  }
}
