import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayClient, type GatewaySession } from '../../src/flink/gateway-client.ts';
import { candleWindows } from '../../src/flink/sql/candle-windows.ts';
import { VIEW } from '../../src/flink/sql/views.ts';
import { testStackSettings } from '../support/stack.ts';

/**
 * The candle view's arithmetic where the streaming tests cannot reach it: Kafka offsets past
 * the BIGINT order key's limit (a topic would need 900 million records) and the largest price
 * times the largest volume. Batch mode over VALUES on the real Flink; expected values by hand.
 */
let session: GatewaySession;

beforeAll(async () => {
  const s = testStackSettings();
  session = await new GatewayClient(`http://${s.host}:${s.ports.gateway}`).openSession('tickflow-candle-sql-test', {
    'execution.runtime-mode': 'batch',
    'table.local-time-zone': 'UTC',
    'parallelism.default': '1',
  });
});

afterAll(async () => {
  await session?.closeSession();
});

type Row = [ticker: string, price: string, volume: number, time: string, offset: bigint];

async function candlesOf(rows: Row[]): Promise<unknown[][]> {
  const values = rows
    .map(([t, p, v, ts, o]) => `('${t}', CAST(${p} AS DECIMAL(10, 4)), CAST(${v} AS INT), TIMESTAMP '${ts}', CAST(${o} AS BIGINT))`)
    .join(',\n');
  await session.execute(
    `CREATE OR REPLACE TEMPORARY VIEW ${VIEW.onTime} AS SELECT * FROM (VALUES ${values}) AS t(ticker, price, volume, event_time, source_offset)`,
  );
  for (const statement of candleWindows({ intervalMs: 60_000 }).ddl) {
    await session.execute(statement.replace('CREATE TEMPORARY VIEW', 'CREATE OR REPLACE TEMPORARY VIEW'));
  }
  const r = await session.execute(
    `SELECT ticker, CAST(open_price AS STRING), CAST(close_price AS STRING), CAST(high_price AS STRING), CAST(low_price AS STRING),
       total_volume, CAST(vwap AS STRING), trade_count FROM ${VIEW.candles} ORDER BY ticker`,
    { timeoutMs: 120_000 },
  );
  return r.rows;
}

/** Σ price·10^4·volume / Σ volume, half-up to 4 decimals, as a decimal string. */
function vwap(trades: Array<[priceE4: bigint, volume: bigint]>): string {
  const n = trades.reduce((s, [p, v]) => s + p * v, 0n);
  const d = trades.reduce((s, [, v]) => s + v, 0n);
  const q = n / d + (2n * (n % d) >= d ? 1n : 0n);
  return `${q / 10_000n}.${String(q % 10_000n).padStart(4, '0')}`;
}

describe('Flink candle arithmetic', () => {
  it('orders open and close by offset across the BIGINT key limit and sums the extreme notional exactly', async () => {
    const rows = await candlesOf([
      // Both kinds of key in one window: open from the small offsets, close from the large ones.
      ['AAPL', '10.0000', 100, '2026-01-02 14:30:01.000', 899_999_999n],
      ['AAPL', '12.5000', 300, '2026-01-02 14:30:02.000', 900_000_001n],
      ['AAPL', '11.0000', 200, '2026-01-02 14:30:03.000', 5n],
      // Only large offsets, the largest price by the largest volume (a term past 2^63).
      ['MSFT', '999999.9999', 2_147_483_647, '2026-01-02 14:30:01.000', 1_000_000_000_000n],
      ['MSFT', '0.0001', 1, '2026-01-02 14:30:02.000', 1_000_000_000_001n],
      ['MSFT', '999999.9999', 2_147_483_647, '2026-01-02 14:30:03.000', 999_999_999_999n],
      // Only small offsets, event time against offset order.
      ['NVDA', '5.0000', 10, '2026-01-02 14:30:01.000', 7n],
      ['NVDA', '6.0000', 10, '2026-01-02 14:30:02.000', 3n],
    ]);
    expect(rows).toEqual([
      [
        'AAPL',
        '11.0000',
        '12.5000',
        '12.5000',
        '10.0000',
        600,
        vwap([
          [100_000n, 100n],
          [125_000n, 300n],
          [110_000n, 200n],
        ]),
        3,
      ],
      [
        'MSFT',
        '999999.9999',
        '0.0001',
        '999999.9999',
        '0.0001',
        4_294_967_295,
        vwap([
          [9_999_999_999n, 2_147_483_647n],
          [1n, 1n],
          [9_999_999_999n, 2_147_483_647n],
        ]),
        3,
      ],
      ['NVDA', '6.0000', '5.0000', '6.0000', '5.0000', 20, '5.5000', 2],
    ]);
  });
});
