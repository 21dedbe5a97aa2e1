import type { DeadLetter } from '../engine/records.ts';
import type { OutgoingRecord } from './producer.ts';

/**
 * Header names on `trades.dlq` records. The value is the rejected record's bytes exactly as
 * they were read; everything about it travels in headers, so the payload stays replayable.
 */
export const DLQ_HEADERS = {
  reason: 'tickflow.reason',
  code: 'tickflow.reason.code',
  topic: 'tickflow.source.topic',
  partition: 'tickflow.source.partition',
  offset: 'tickflow.source.offset',
  receivedAt: 'tickflow.received.at',
} as const;

export function deadLetterRecord(d: DeadLetter, topic: string): OutgoingRecord {
  const value = typeof d.raw === 'string' ? Buffer.from(d.raw) : Buffer.from(d.raw.buffer, d.raw.byteOffset, d.raw.byteLength);
  return {
    topic,
    // Keyed by source position: a replayed dead letter lands on the same DLQ partition.
    key: Buffer.from(`${d.source}:${d.partition}:${d.offset}`),
    value,
    headers: {
      [DLQ_HEADERS.reason]: Buffer.from(d.reason),
      [DLQ_HEADERS.code]: Buffer.from(d.code),
      [DLQ_HEADERS.topic]: Buffer.from(d.source),
      [DLQ_HEADERS.partition]: Buffer.from(String(d.partition)),
      [DLQ_HEADERS.offset]: Buffer.from(String(d.offset)),
      [DLQ_HEADERS.receivedAt]: Buffer.from(new Date(d.receivedAtMs).toISOString()),
    },
  };
}
