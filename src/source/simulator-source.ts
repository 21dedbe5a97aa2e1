import { setTimeout as sleep } from 'node:timers/promises';
import { BufferRangeRecord, type RawRecord } from '../engine/records.ts';
import { Market, type MarketOptions } from '../simulate/market.ts';
import { MEAN_INTENSITY, SessionClock, tradesDue } from '../simulate/session.ts';
import { TradeLineBytes } from '../simulate/trade-line-bytes.ts';
import type { Source } from './source.ts';

export interface SimulatorOptions extends MarketOptions {
  /** Trades per second at the open and close, paced on the wall clock; null = as fast as possible. */
  rate: number | null;
  count?: number | undefined;
  durationMs?: number | undefined;
  /** Unpaced runs use a synthetic session clock from here, one trade per `stepMs` at the open. */
  startMs?: number | undefined;
  stepMs?: number | undefined;
}

/**
 * The market simulator as a source. Paced runs stamp trades with the wall clock (a live
 * market); unpaced runs use a synthetic clock so event time is reproducible for a given seed.
 * Either way the trading day opens at the first trade and the rate follows its U shape: the
 * requested rate at the open and close, a third of it at midday (src/simulate/session.ts,
 * docs/simulator.md).
 */
export class SimulatorSource implements Source {
  readonly description: string;
  readonly #o: SimulatorOptions;

  constructor(o: SimulatorOptions) {
    this.#o = o;
    this.description = `simulator (seed ${o.seed}, ${o.rate === null ? 'max rate' : `${o.rate}/s`})`;
  }

  /** Trades come at most at the requested rate (the open and close), or one per step of the synthetic clock. */
  idsWithin(eventMs: number): number {
    return Math.min(this.#o.count ?? Number.POSITIVE_INFINITY, Math.ceil((eventMs / 1000) * this.#peakRate));
  }

  /** Trades per second at the busiest moment: the requested rate, or one per synthetic step. */
  get #peakRate(): number {
    return this.#o.rate ?? 1000 / (this.#o.stepMs ?? 1);
  }

  async *batches(signal: AbortSignal): AsyncIterable<RawRecord[]> {
    const o = this.#o;
    const step = o.stepMs ?? 1;
    // The market scales volatility and news by the day's average rate.
    const market = new Market({ ...o, tradesPerSecond: this.#peakRate * MEAN_INTENSITY });
    const lines = new TradeLineBytes(market.idPrefix, market.tickers);
    const limit = o.count ?? Number.POSITIVE_INFINITY;
    const started = Date.now();
    const deadline = o.durationMs === undefined ? Number.POSITIVE_INFINITY : started + o.durationMs;
    const clock = o.rate === null ? new SessionClock(o.startMs ?? started, step, o.sessionMs) : null;
    let n = 0;
    while (n < limit && !signal.aborted) {
      const now = Date.now();
      if (now >= deadline) break;
      let size: number;
      if (o.rate === null) {
        size = Math.min(1_000, limit - n);
      } else {
        const due = Math.floor(tradesDue(now - started, o.rate, o.sessionMs)) + 1;
        size = Math.min(due - n, limit - n, 10_000);
        if (size <= 0) {
          await sleep(Math.max(1, Math.min(50, 1000 / o.rate)));
          continue;
        }
      }
      const batch = drawBatch(market, lines, size, n, clock, now);
      n += size;
      yield batch;
    }
  }
}

/**
 * `size` trades as records, their lines in one buffer: the engine reads bytes, as from Kafka.
 * Outside the generator so that V8 optimises the loop: in the generator's body every trade
 * boxed its time and offset as heap numbers.
 */
function drawBatch(market: Market, lines: TradeLineBytes, size: number, first: number, clock: SessionClock | null, now: number): RawRecord[] {
  const buf = new Uint8Array(size * lines.maxLineBytes);
  const batch: RawRecord[] = new Array(size);
  let pos = 0;
  for (let i = 0; i < size; i++) {
    const end = lines.write(buf, pos, market.draw(clock === null ? now : clock.next()));
    batch[i] = new BufferRangeRecord(buf, pos, end, 'simulator', 0, first + i);
    pos = end;
  }
  return batch;
}
