import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayClient, type GatewaySession } from '../../src/flink/gateway-client.ts';
import { FIELD_SQL, eventTimeSql, rejectCodeSql } from '../../src/flink/trade-validation-sql.ts';
import { dirtyFeed } from '../../src/simulate/dirty-feed.ts';
import { parseTradeBytes } from '../../src/trade/parse.ts';
import { formatPriceE4 } from '../../src/trade/trade.ts';
import { testStackSettings } from '../support/stack.ts';

/**
 * The compiled validation (SQL over the raw bytes) against the embedded parser, record by
 * record, on the real Flink: same reject code, same event time, same fields. Batch mode over
 * VALUES: one small job, no Kafka needed.
 */
const valid = { trade_id: 't-1', ticker: 'AAPL', price: '187.2300', volume: 1200, trade_timestamp: '2026-11-25T06:01:02.123Z' };
const j = (o: Record<string, unknown>): string => JSON.stringify(o);
const { trade_timestamp: _drop, ...noTs } = valid;

const corpus: Buffer[] = [
  ...[...dirtyFeed({ seed: 11, count: 60, startMs: Date.UTC(2026, 10, 25, 14, 0, 0), malformed: 0.4, aliasTimestamp: 0.3 })],
  j({ ...valid, price: 187.23 }), j({ ...valid, price: '187.2' }), j({ ...valid, price: '5' }), j({ ...valid, price: '1.230000' }),
  j({ ...valid, price: '0.0001' }), j({ ...valid, price: '999999.9999' }), j({ ...valid, price: '1000000' }), j({ ...valid, price: '0' }),
  j({ ...valid, price: '00001.5' }), j({ ...valid, price: '1.00001' }), j({ ...valid, price: '1.' }), j({ ...valid, price: '.5' }),
  j({ ...valid, price: 0.1 + 0.2 }), j({ ...valid, price: 1e-7 }), j({ ...valid, price: 5 }), j({ ...valid, price: true }), j({ ...valid, price: '1.5\n' }),
  j({ ...noTs, timestamp: '2026-11-25T06:01:02.123Z' }), j({ ...valid, trade_timestamp: 1_764_050_462_123 }),
  j({ ...valid, trade_timestamp: '2026-11-25T07:01:02+01:00' }), j({ ...valid, trade_timestamp: '2026-11-25T01:01:02.5-0500' }),
  j({ ...valid, trade_timestamp: '2026-11-25 06:01:02Z' }), j({ ...valid, trade_timestamp: '2026-11-25T06:01:02.123999Z' }),
  j({ ...valid, trade_timestamp: '2028-02-29T00:00:00Z' }), j({ ...valid, trade_timestamp: '2027-02-29T00:00:00Z' }),
  j({ ...valid, trade_timestamp: '2000-02-29T00:00:00Z' }), j({ ...valid, trade_timestamp: '2100-02-29T00:00:00Z' }),
  j({ ...valid, trade_timestamp: '2026-11-25T06:01:02-00:30' }), j({ ...valid, trade_timestamp: '2026-11-25T06:01:02+19:00' }),
  j({ ...valid, trade_timestamp: '1969-12-31T23:59:59Z' }), j({ ...valid, trade_timestamp: '1970-01-01T00:30:00+01:00' }),
  j({ ...valid, trade_timestamp: '2026-11-25T24:00:00Z' }), j({ ...valid, trade_timestamp: '2026-11-25T06:01:02' }),
  j({ ...valid, trade_timestamp: 1.5 }), j({ ...valid, trade_timestamp: -1 }), j({ ...valid, timestamp: 'garbage' }),
  j({ ...valid, trade_timestamp: null, timestamp: '2026-11-25T06:01:02Z' }), j({ ...valid, trade_timestamp: {} }),
  j({ ...valid, volume: 2_147_483_647 }), j({ ...valid, volume: 2_147_483_648 }), j({ ...valid, volume: 10.0 }), j({ ...valid, volume: 10.5 }),
  j({ ...valid, volume: '5' }), j({ ...valid, volume: 0 }), j({ ...valid, ticker: 'BRK.B-2026' }), j({ ...valid, ticker: 'TOOLONGTICK' }),
  j({ ...valid, ticker: 'aapl' }), j({ ...valid, ticker: 123 }), j({ ...valid, ticker: 'AAPL\n' }), j({ ...valid, trade_id: '' }),
  j({ ...valid, trade_id: 'x'.repeat(255) }), j({ ...valid, trade_id: 'x'.repeat(256) }), j({ ...valid, trade_id: 'tab\tid' }),
  j({ ...valid, trade_id: 42 }), j({ ...valid, trade_id: 'é ü 日本' }), j({ ...valid, ticker: null }), j({ ...valid, extra: [1, { a: 2 }] }),
  '', '   ', 'hello', '[1,2]', '"str"', '42', 'null', '{"trade_id":"x",', `${j(valid)} x`,
  `{"a":"${'x'.repeat(70_000)}"}`,
].map((l) => (typeof l === 'string' ? Buffer.from(l) : l));
corpus.push(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from(j(valid))]));

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
