import type { LiveHub } from './live-hub.ts';
import type { LiveStats } from './live-stats.ts';
import { LatencyHistogram } from './sink-latency.ts';

/**
 * The Prometheus text exposition format (version 0.0.4), written by hand: a dozen series do
 * not need a client library. Series whose value the feed cannot know are left out rather than
 * reported as zero.
 */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const START_SECONDS = Math.round(Date.now() / 1000 - process.uptime());

class Exposition {
  #text = '';

  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): this {
    this.#text += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
    return this;
  }

  sample(name: string, value: number, labels: Record<string, string> = {}): this {
    const l = Object.entries(labels)
      .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`)
      .join(',');
    this.#text += `${name}${l === '' ? '' : `{${l}}`} ${formatValue(value)}\n`;
    return this;
  }

  counter(name: string, help: string, value: number | null): this {
    return value === null ? this : this.family(name, 'counter', help).sample(name, value);
  }

  gauge(name: string, help: string, value: number | null): this {
    return value === null ? this : this.family(name, 'gauge', help).sample(name, value);
  }

  toString(): string {
    return this.#text;
  }
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export function renderMetrics(s: LiveStats, o: { hub: LiveHub; sinkLatency: LatencyHistogram | null }): string {
  const m = new Exposition();
  m.counter('tickflow_events_read_total', 'Records read from the source.', s.read);
  m.counter('tickflow_events_stored_total', 'Trades newly stored in stock_trades.', s.stored);
  m.counter('tickflow_events_duplicate_total', 'Records whose trade_id was already seen (not stored again).', s.duplicates);
  m.counter('tickflow_events_rejected_total', 'Records sent to dead letters.', s.dead_letters);
  m.family('tickflow_events_rejected_by_reason_total', 'counter', 'Records sent to dead letters, by reason code.');
  for (const [reason, n] of Object.entries(s.dead_letters_by_reason).sort()) m.sample('tickflow_events_rejected_by_reason_total', n, { reason });
  m.counter('tickflow_events_late_total', 'Trades older than the watermark on arrival (stored, not aggregated).', s.late);
  m.family('tickflow_alerts_total', 'counter', 'Alerts raised, by kind.');
  for (const [kind, n] of Object.entries(s.alerts_by_kind).sort()) m.sample('tickflow_alerts_total', n, { kind });
  m.counter('tickflow_candles_total', 'Closed candles emitted.', s.candles);
  m.gauge('tickflow_trades_per_second', 'Records per second over the last few seconds.', s.trades_per_s);
  m.gauge('tickflow_sink_lag_records', 'Records read but not yet committed to the database.', s.sink_lag_records);
  m.counter('tickflow_sink_retries_total', 'Database writes retried after a transient failure (connection lost, server restarting).', s.sink_retries);
  m.gauge('tickflow_sink_unavailable_seconds', 'How long the database has been refusing writes; 0 while writes succeed.', s.sink_unavailable_s);
  m.gauge('tickflow_consumer_lag_records', 'Kafka consumer lag summed over partitions.', s.consumer_lag);
  m.gauge('tickflow_watermark_seconds', 'Event-time watermark, Unix seconds.', s.watermark === null ? null : Date.parse(s.watermark) / 1000);
  m.gauge('tickflow_pipeline_up', '1 while the pipeline (or the database poller) runs.', s.pipeline === 'running' ? 1 : 0);
  const h = o.sinkLatency;
  if (h !== null) {
    const name = 'tickflow_sink_batch_seconds';
    m.family(name, 'histogram', 'Wall time of one database write transaction.');
    for (const [i, b] of LatencyHistogram.BOUNDS.entries()) m.sample(`${name}_bucket`, h.counts[i]!, { le: String(b) });
    m.sample(`${name}_bucket`, h.count, { le: '+Inf' });
    m.sample(`${name}_sum`, Number(h.sum.toFixed(6)));
    m.sample(`${name}_count`, h.count);
  }
  m.gauge('tickflow_stream_clients', 'Live-stream (SSE) clients connected.', o.hub.subscriberCount);
  m.family('tickflow_stream_events_total', 'counter', 'Live-stream events published, by type.');
  for (const [type, n] of Object.entries(o.hub.eventsByType)) m.sample('tickflow_stream_events_total', n, { type });
  m.counter('tickflow_stream_alerts_skipped_total', 'Alerts left out of the live stream to bound its rate (still stored).', s.alerts_not_streamed);
  const mem = process.memoryUsage();
  m.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', mem.rss);
  m.gauge('nodejs_heap_used_bytes', 'V8 heap in use, bytes.', mem.heapUsed);
  m.gauge('nodejs_heap_total_bytes', 'V8 heap allocated, bytes.', mem.heapTotal);
  const cpu = process.cpuUsage();
  m.counter('process_cpu_seconds_total', 'User and system CPU time, seconds.', (cpu.user + cpu.system) / 1e6);
  m.gauge('process_start_time_seconds', 'Start time of the process, Unix seconds.', START_SECONDS);
  return m.toString();
}
