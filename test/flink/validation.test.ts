import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayClient, type GatewaySession } from '../../src/flink/gateway-client.ts';
import { FIELD_SQL, eventTimeSql, rejectCodeSql } from '../../src/flink/trade-validation-sql.ts';
import { parseTradeBytes } from '../../src/trade/parse.ts';
import { formatPriceE4 } from '../../src/trade/trade.ts';
import { testStackSettings } from '../support/stack.ts';
import { corpus } from '../support/trade-edge-cases.ts';

/**
 * The compiled validation (SQL over the raw bytes) against the embedded parser, record by
 * record, on the real Flink: same reject code, same event time, same fields. Batch mode over
 * VALUES: one small job, no Kafka needed.
 */
let session: GatewaySession;

beforeAll(async () => {
  const s = testStackSettings();
  session = await new GatewayClient(`http://${s.host}:${s.ports.gateway}`).openSession('tickflow-validation-test', {
    'execution.runtime-mode': 'batch',
    'table.local-time-zone': 'UTC',
    'parallelism.default': '1',
  });
});

afterAll(async () => {
  await session?.closeSession();
});

describe('compiled trade validation (Flink SQL) = src/trade/parse.ts', () => {
  it('gives every record the same verdict, event time and fields', async () => {
    const values = corpus.map((b, i) => `(${i}, x'${b.toString('hex')}')`).join(',\n');
    const r = await session.execute(
      `SELECT i, reason_code, CAST(event_time AS STRING), trade_id, ticker, CAST(price AS STRING), volume FROM (
         SELECT i, ${rejectCodeSql(65_536)} AS reason_code, ${eventTimeSql(65_536)} AS event_time,
           ${FIELD_SQL.tradeId} AS trade_id, ${FIELD_SQL.ticker} AS ticker, ${FIELD_SQL.price} AS price, ${FIELD_SQL.volume} AS volume
         FROM (VALUES ${values}) AS t(i, \`raw_value\`))`,
      { timeoutMs: 180_000 },
    );
    expect(r.rows.length).toBe(corpus.length);
    const mismatches: string[] = [];
    for (const row of r.rows) {
      const i = row[0] as number;
      const p = parseTradeBytes(corpus[i]!);
      const expected = p.ok
        ? [null, new Date(p.trade.tsMs).toISOString().replace('T', ' ').replace('Z', ''), p.trade.tradeId, p.trade.ticker, formatPriceE4(p.trade.priceE4), p.trade.volume]
        : [p.code, '1969-12-31 23:59:59.999'];
      const actual = p.ok ? row.slice(1) : row.slice(1, 3);
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        mismatches.push(`${corpus[i]!.toString('utf8').slice(0, 90)} → flink ${JSON.stringify(actual)} vs embedded ${JSON.stringify(expected)}`);
      }
    }
    expect(mismatches).toEqual([]);
  });
});
