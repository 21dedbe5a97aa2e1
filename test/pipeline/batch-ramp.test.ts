import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { type EngineOutput, tradeCount } from '../../src/engine/records.ts';
import { PipelineRun } from '../../src/pipeline/run-pipeline.ts';
import { SimulatorSource } from '../../src/source/simulator-source.ts';
import { defaultSpec } from '../../src/spec/spec.ts';
import { openStore } from '../../src/store/open-store.ts';

/** Trades per committed transaction of a full-speed simulator run into an in-memory database. */
async function transactionSizes(count: number, maxBatchTrades: number): Promise<number[]> {
  const store = await openStore('memory', { pglite: 'speed' });
  try {
    const sizes: number[] = [];
    const run = new PipelineRun({
      source: new SimulatorSource({ seed: 5, rate: null, count, startMs: Date.UTC(2026, 11, 1, 14, 30) }),
      engine: new Engine(defaultSpec()),
      store,
      maxBatchTrades,
      // No write is due by time in these runs: the sizes are the ramp's alone.
      maxBatchDelayMs: 60_000,
      // The last transaction holds only what the end of input closed (candles).
      participants: [{ onCommitted: (out: EngineOutput) => void (tradeCount(out) > 0 && sizes.push(tradeCount(out))) }],
    });
    const summary = await run.run();
    expect(summary.stored).toBe(count);
    return sizes;
  } finally {
    await store.close();
  }
}

describe('transaction sizes', () => {
  it('start small and double up to the batch size, so the database has work from the start', async () => {
    // The simulator hands over 1,000 records at a time; a batch is cut after the one that fills it.
    const sizes = await transactionSizes(100_000, 20_000);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(100_000);
    expect(sizes.slice(0, 5)).toEqual([3_000, 5_000, 10_000, 20_000, 20_000]);
    expect(Math.max(...sizes)).toBe(20_000);
  });

  it('never exceed a batch size below the first step', async () => {
    const sizes = await transactionSizes(10_000, 1_000);
    expect(sizes).toEqual(Array(10).fill(1_000));
  });
});
