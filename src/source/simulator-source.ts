import { setTimeout as sleep } from 'node:timers/promises';
import type { RawRecord } from '../engine/records.ts';
import { Market, type MarketOptions } from '../simulate/market.ts';
import { tradeToJson } from '../trade/trade.ts';
import type { Source } from './source.ts';

export interface SimulatorOptions extends MarketOptions {
  /** Trades per second, paced on the wall clock; null = as fast as possible. */
  rate: number | null;
  count?: number | undefined;
  durationMs?: number | undefined;
  /** Unpaced runs use a synthetic clock from here, one trade per `stepMs`. */
  startMs?: number | undefined;
  stepMs?: number | undefined;
}

/**
 * The market simulator as a source. Paced runs stamp trades with the wall clock (a live
 * market); unpaced runs use a synthetic clock so event time is reproducible for a given seed.
 */
export class SimulatorSource implements Source {
  readonly description: string;
  readonly #o: SimulatorOptions;

  constructor(o: SimulatorOptions) {
    this.#o = o;
    this.description = `simulator (seed ${o.seed}, ${o.rate === null ? 'max rate' : `${o.rate}/s`})`;
  }

  async *batches(signal: AbortSignal): AsyncIterable<RawRecord[]> {
    const o = this.#o;
    const market = new Market(o);
    const limit = o.count ?? Number.POSITIVE_INFINITY;
    const started = Date.now();
    const deadline = o.durationMs === undefined ? Number.POSITIVE_INFINITY : started + o.durationMs;
    const step = o.stepMs ?? 1;
    let clock = o.startMs ?? started;
    let n = 0;
    while (n < limit && !signal.aborted) {
      const now = Date.now();
      if (now >= deadline) break;
      let size: number;
      if (o.rate === null) {
        size = Math.min(1_000, limit - n);
      } else {
        const due = Math.floor(((now - started) / 1000) * o.rate) + 1;
        size = Math.min(due - n, limit - n, 10_000);
        if (size <= 0) {
          await sleep(Math.max(1, Math.min(50, 1000 / o.rate)));
          continue;
        }
      }
      const batch: RawRecord[] = new Array(size);
      for (let i = 0; i < size; i++) {
        if (o.rate === null) clock += step;
        const ts = o.rate === null ? clock : now;
        const t = market.next(ts);
        batch[i] = { value: JSON.stringify(tradeToJson(t)), source: 'simulator', partition: 0, offset: n + i };
      }
      n += size;
      yield batch;
    }
  }
}
