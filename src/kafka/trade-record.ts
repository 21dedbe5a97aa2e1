import { parseTradeBytes } from '../trade/parse.ts';
import type { OutgoingRecord } from './producer.ts';

/**
 * A line of input as a Kafka record: key = ticker (a ticker's trades stay in order on one
 * partition), CreateTime = the trade's event time (KafkaSource merges partitions by it).
 * The bytes are sent exactly as read — a malformed line must reach the consumer, which sends
 * it to the dead-letter topic with its reason; the producer does not judge. For a line that is
 * not a trade the key is the ticker if one can be read at all, and the time is that of the
 * previous trade, so it does not hold the merge back.
 */
export class TradeRecordMaker {
  readonly topic: string;
  #lastTs = BigInt(Date.now());

  constructor(topic: string) {
    this.topic = topic;
  }

  make(line: Buffer): OutgoingRecord {
    const fast = quickKeyAndTime(line);
    if (fast !== null) {
      this.#lastTs = BigInt(Math.min(fast.tsMs, Date.now()));
      return { topic: this.topic, key: fast.key, value: line, timestamp: this.#lastTs };
    }
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

/**
 * The ticker and event time of a plainly written trade line, without a full JSON parse (the
 * producer's hot path). Only lines without escapes qualify, so the key is exactly the ticker
 * the consumer's parser will read; anything unusual takes the full parse.
 */
function quickKeyAndTime(line: Buffer): { key: Buffer; tsMs: number } | null {
  if (line.length > 4096 || line.includes(92 /* backslash */)) return null;
  const text = line.toString('latin1');
  const t = text.indexOf('"ticker":"');
  if (t < 0) return null;
  const tEnd = text.indexOf('"', t + 10);
  const ticker = text.slice(t + 10, tEnd);
  if (tEnd < 0 || !/^[A-Z0-9.-]{1,10}$/.test(ticker)) return null;
  let ts = text.indexOf('"trade_timestamp":"');
  let start = ts + 19;
  if (ts < 0) {
    ts = text.indexOf('"timestamp":"');
    start = ts + 13;
  }
  if (ts < 0) return null;
  const tsMs = Date.parse(text.slice(start, text.indexOf('"', start)));
  if (Number.isNaN(tsMs)) return null;
  return { key: Buffer.from(ticker, 'latin1'), tsMs };
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
