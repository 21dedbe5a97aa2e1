import { parseTradeBytes } from '../trade/parse.ts';
import type { OutgoingRecord } from './producer.ts';

/**
 * A line of input as a Kafka record: key = ticker (a ticker's trades stay in order on one
 * partition), CreateTime = the trade's event time (KafkaSource merges partitions by it).
 * The bytes are sent exactly as read — a malformed line must reach the consumer, which sends
 * it to the dead-letter topic with its reason; the producer does not judge. For a line that is
 * not a trade the key is the ticker if one can be read at all, and the time is that of the
 * previous trade, so it does not hold the merge back. Every line is parsed in full: a quicker
 * scan for the ticker and time read the first of duplicate keys where the parser keeps the
 * last, and took times from lines the consumer then rejects.
 */
export class TradeRecordMaker {
  readonly topic: string;
  #lastTs = BigInt(Date.now());

  constructor(topic: string) {
    this.topic = topic;
  }

  make(line: Buffer): OutgoingRecord {
    // Only a valid trade may set the time: a rejected line dated ahead of its partition's
    // trades would sit at the head of that partition in the consumer's time-ordered merge and
    // make the trades behind it late.
    const r = parseTradeBytes(line);
    if (r.ok) {
      // Kafka 4 refuses CreateTimes more than an hour ahead (log.message.timestamp.after.max.ms):
      // a trade dated in the future is stamped with the produce time instead.
      this.#lastTs = BigInt(Math.min(r.trade.tsMs, Date.now()));
      return { topic: this.topic, key: Buffer.from(r.trade.ticker), value: line, timestamp: this.#lastTs };
    }
    return { topic: this.topic, key: looseTicker(line), value: line, timestamp: this.#lastTs };
  }
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
