import { describe, expect, it } from 'vitest';
import { SimulatorSource } from '../../src/source/simulator-source.ts';

/** Event times of an unpaced simulator run, in order. */
async function eventTimes(o: { count: number; stepMs?: number }): Promise<number[]> {
  const source = new SimulatorSource({ seed: 9, rate: null, startMs: Date.UTC(2026, 11, 1, 14, 30), ...o });
  const times: number[] = [];
  for await (const batch of source.batches(new AbortController().signal)) {
    for (const r of batch) times.push(Date.parse((JSON.parse(Buffer.from(r.value).toString()) as { trade_timestamp: string }).trade_timestamp));
  }
  return times;
}

/** The most trades any `spanMs` of event time holds (a sliding window over sorted times). */
function busiest(times: readonly number[], spanMs: number): number {
  let most = 0;
  let from = 0;
  for (let to = 0; to < times.length; to++) {
    while (times[to]! - times[from]! >= spanMs) from++;
    most = Math.max(most, to - from + 1);
  }
  return most;
}

describe('the simulator tells the engine how many trades a span of event time can hold', () => {
  it('at the requested rate, or one per step of the synthetic clock, and never more than its count', () => {
    expect(new SimulatorSource({ seed: 1, rate: 1_000 }).idsWithin(675_000)).toBe(675_000);
    expect(new SimulatorSource({ seed: 1, rate: 1_000, count: 500 }).idsWithin(675_000)).toBe(500);
    expect(new SimulatorSource({ seed: 1, rate: null, stepMs: 4 }).idsWithin(10_000)).toBe(2_500);
  });

  it.each([1, 3])('an unpaced run with a %i ms step holds no more in any span than it says, and nearly that at the open', async (stepMs) => {
    const times = await eventTimes({ count: 60_000, stepMs });
    const source = new SimulatorSource({ seed: 9, rate: null, stepMs });
    for (const span of [1_000, 10_000, 60_000]) {
      const bound = source.idsWithin(span);
      const most = busiest(times, span);
      expect(most).toBeLessThanOrEqual(bound);
      if (span * (1 / stepMs) <= 60_000) expect(most).toBeGreaterThan(bound * 0.95);
    }
  });
});
