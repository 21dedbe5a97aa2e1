import { parseTradeBytes } from '../trade/parse.ts';
import type { OutgoingRecord } from './producer.ts';

/**
 * A line of input as a Kafka record: key = ticker (a ticker's trades stay in order on one
 * partition). The bytes are sent exactly as read — a malformed line must reach the consumer,
 * which sends it to the dead-letter topic with its reason; the producer does not judge. For a
 * line that is not a trade the key is the ticker if one can be read at all. Every line is
 * parsed in full: a quicker scan for the ticker read the first of duplicate keys where the
 * parser keeps the last.
 *
 * The record's timestamp is left to the client (the time it is sent), not set to the trade's
 * event time: the broker's time-based retention counts from it, and a replay of last month's
 * trades stamped with their own dates would be deleted by the next retention check. Event time
 * lives in the payload only (see recordEventTime).
 */
export class TradeRecordMaker {
  readonly topic: string;
  /** One key Buffer per ticker: no allocation per record, and the producer caches its partition. */
  readonly #keys = new Map<string, Buffer>();

  constructor(topic: string) {
    this.topic = topic;
  }

  make(line: Buffer): OutgoingRecord {
    const r = parseTradeBytes(line);
    return { topic: this.topic, key: r.ok === true ? this.#key(r.trade.ticker) : r.ok === 'heartbeat' ? undefined : looseTicker(line), value: line };
  }

  #key(ticker: string): Buffer {
    let key = this.#keys.get(ticker);
    if (key === undefined) {
      key = Buffer.from(ticker);
      if (this.#keys.size < 10_000) this.#keys.set(ticker, key);
    }
    return key;
  }
}

/**
 * The time the consumer's partition merge orders a record by: the trade's event time, read
 * from the payload as the engine and the Flink job read it, so it holds for records any
 * producer wrote, whatever their Kafka timestamp says; a heartbeat's time for a heartbeat. Null
 * for a record that is neither (it has no time of its own to be ordered by).
 */
export function recordEventTime(value: Buffer | null | undefined, maxBytes: number): number | null {
  if (value === null || value === undefined) return null;
  const r = parseTradeBytes(value, maxBytes);
  return r.ok === true ? r.trade.tsMs : r.ok === 'heartbeat' ? r.tsMs : null;
}

function looseTicker(line: Buffer): Buffer | undefined {
  try {
    const v = JSON.parse(line.toString('utf8')) as unknown;
    if (typeof v === 'object' && v !== null && typeof (v as { ticker?: unknown }).ticker === 'string') {
      const t = (v as { ticker: string }).ticker;
      if (t.length > 0 && t.length <= 64) return Buffer.from(t);
    }
  } catch {
    // not JSON: no key, the record rotates over partitions
  }
  return undefined;
}
