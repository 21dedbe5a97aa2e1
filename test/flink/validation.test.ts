import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayClient, type GatewaySession } from '../../src/flink/gateway-client.ts';
import { parserFunctions } from '../../src/flink/sql/source-and-parse.ts';
import { parseTradeBytes } from '../../src/trade/parse.ts';
import { formatPriceE4 } from '../../src/trade/trade.ts';
import { testStackSettings } from '../support/stack.ts';
import { corpus as edgeCases, heartbeats } from '../support/trade-edge-cases.ts';

/**
 * The parser function as the job calls it (registered by the compiler's own statements, its jar
 * on the cluster's classpath) against the embedded parser, record by record, on the real Flink:
 * same reject code and reason, same event time (the rowtime function's too), same fields after
 * Flink's type conversions. Batch mode over VALUES: one small job, no Kafka needed. The full
 * corpora run against the parser itself in test/udf/parser-conformance.test.ts.
 */
let session: GatewaySession;

beforeAll(async () => {
  const s = testStackSettings();
  session = await new GatewayClient(`http://${s.host}:${s.ports.gateway}`).openSession('tickflow-validation-test', {
    'execution.runtime-mode': 'batch',
    'table.local-time-zone': 'UTC',
    'parallelism.default': '1',
  });
  for (const statement of parserFunctions()) await session.execute(statement, { timeoutMs: 60_000 });
});

afterAll(async () => {
  await session?.closeSession();
});

const REJECTED_TIME = '1969-12-31 23:59:59.999';
const corpus = [...edgeCases, ...heartbeats];
const flinkTime = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

describe('the parser function in Flink = src/trade/parse.ts', () => {
  it('gives every record the same verdict, reason, event time and fields', async () => {
    const values = corpus.map((b, i) => `(${i}, x'${b.toString('hex')}')`).join(',\n');
    const r = await session.execute(
      `SELECT i, p.reason_code, p.reason, CAST(tickflow_event_time(\`raw_value\`, 65536) AS STRING), CAST(p.event_time AS STRING),
         p.trade_id, p.ticker, CAST(p.price AS STRING), p.volume
       FROM (SELECT i, \`raw_value\`, tickflow_parse(\`raw_value\`, 65536) AS p FROM (VALUES ${values}) AS t(i, \`raw_value\`))`,
      { timeoutMs: 180_000 },
    );
    expect(r.rows.length).toBe(corpus.length);
    const mismatches: string[] = [];
    for (const row of r.rows) {
      const i = row[0] as number;
      const p = parseTradeBytes(corpus[i]!);
      const expected =
        p.ok === true
          ? [null, null, flinkTime(p.trade.tsMs), flinkTime(p.trade.tsMs), p.trade.tradeId, p.trade.ticker, formatPriceE4(p.trade.priceE4), p.trade.volume]
          : p.ok === false
            ? [p.code, p.reason, REJECTED_TIME, null, null, null, null, null]
            : ['heartbeat', null, flinkTime(p.tsMs), flinkTime(p.tsMs), null, null, null, null];
      const actual = row.slice(1);
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        mismatches.push(
          `${corpus[i]!.toString('utf8').slice(0, 90)} → flink ${JSON.stringify(actual).slice(0, 300)} vs embedded ${JSON.stringify(expected).slice(0, 300)}`,
        );
      }
    }
    expect(mismatches).toEqual([]);
  });
});
