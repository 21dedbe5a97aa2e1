import type { LiveHub } from './live-hub.ts';
import type { CandleJson } from './live-events.ts';
import type { LiveStats } from './live-stats.ts';
import type { LatencyHistogram } from './sink-latency.ts';

/**
 * Where the dashboard's live data comes from. Pluggable: the embedded pipeline pushes into the
 * hub as it commits (PipelineFeed); `tickflow serve` polls the tables a Flink job or a Kafka
 * consumer fills (DatabaseFeed). A Kafka alerts-topic feed can implement this too.
 */
export interface LiveFeed {
  readonly hub: LiveHub;
  /** The current counters (for /api/stats and /metrics). */
  stats(): Promise<LiveStats>;
  /** Candles of windows still open, where the feed sees them (only an in-process engine does). */
  formingCandles(): CandleJson[];
  /** Window length of candles, when known. */
  readonly candleIntervalMs: number | null;
  /** Batch write latency, when this process writes. */
  readonly sinkLatency: LatencyHistogram | null;
  /** True while the pipeline (or the poller) is running; /healthz reports it. */
  running(): boolean;
  close(): Promise<void>;
}
