/**
 * The shared local stack (started by test/setup/stack.global.ts) does what the Kafka and Flink
 * tests need: Kafka round-trips records with its own tools, the SQL Gateway answers a bounded
 * query, and a streaming INSERT moves records from a Kafka topic into a PostgreSQL table.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackStatus } from '../../src/stack/stack.ts';
import {
  GatewaySession,
  cancelFlinkJob,
  consumeLines,
  createTopic,
  deleteTopic,
  flinkJobState,
  jdbcConnectorOptions,
  produceLines,
  testStackInfo,
  testStackSettings,
  tickflowDatabaseUrl,
  uniqueName,
} from '../support/stack.ts';
import { waitFor } from '../support/wait.ts';

const settings = testStackSettings();

describe('local stack', () => {
  it('is up: every component healthy, on loopback', async () => {
    const status = await stackStatus(settings);
    expect(status.map((s) => [s.component, s.healthy])).toEqual([
      ['kafka', true],
      ['jobmanager', true],
      ['taskmanager', true],
      ['sql-gateway', true],
    ]);
    const info = await testStackInfo(settings);
    expect(info.kafkaBootstrap).toBe(`127.0.0.1:${settings.ports.kafka}`);
    expect(Object.values(info.pids).every((p) => typeof p === 'number')).toBe(true);
    // The web UI is part of the stack: its index page is served next to the REST API.
    const ui = await fetch(`${info.flinkRestUrl}/`, { signal: AbortSignal.timeout(10_000) });
    expect(await ui.text()).toContain('<html');
  });

  it("round-trips keyed records through a new topic with Kafka's console producer and consumer", async () => {
    const topic = uniqueName('stack_roundtrip');
    await createTopic(topic, 3);
    try {
      const records = ['AAPL\t{"trade_id":"t1","ticker":"AAPL"}', 'MSFT\t{"trade_id":"t2","ticker":"MSFT"}'];
      await produceLines(topic, records, { keyed: true });
      const read = await consumeLines(topic, 2, { withKeys: true });
      expect(read.sort()).toEqual([...records].sort());
    } finally {
      await deleteTopic(topic);
    }
  }, 120_000);

  it('answers a bounded SELECT through a SQL Gateway REST session', async () => {
    const session = await GatewaySession.open(settings);
    try {
      const result = await session.execute("SELECT id, UPPER(name) AS name FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) AS t(id, name)", { timeoutMs: 120_000 });
      expect(result.columns).toEqual(['id', 'name']);
      expect(result.rows.sort()).toEqual([
        [1, 'A'],
        [2, 'B'],
        [3, 'C'],
      ]);
      expect(result.jobId).toMatch(/^[0-9a-f]{32}$/);
    } finally {
      await session.close();
    }
  }, 180_000);

  describe('streaming INSERT from a Kafka topic into a PostgreSQL table (JDBC connector)', () => {
    const topic = uniqueName('stack_trades');
    const table = uniqueName('stack_it_trades');
    const sql = postgres(tickflowDatabaseUrl(), { max: 1, onnotice: () => {} });
    let session: GatewaySession;
    let jobId: string | null = null;

    beforeAll(async () => {
      await createTopic(topic, 2);
      await sql.unsafe(
        `create table ${table} (trade_id varchar(255) primary key, ticker varchar(10), price numeric(10,4), volume int, trade_timestamp timestamptz)`,
      );
      session = await GatewaySession.open(settings);
    }, 120_000);

    afterAll(async () => {
      // Checked, not swallowed: a job left running would hold slots every later file needs.
      if (jobId !== null) await cancelFlinkJob(jobId, settings);
      await session?.close();
      await sql.unsafe(`drop table if exists ${table}`);
      await sql.end();
      await deleteTopic(topic);
    }, 120_000);

    it('stores every record, timestamps exact in UTC', async () => {
      const jdbc = jdbcConnectorOptions();
      await session.execute(`CREATE TABLE trades_in (
          trade_id STRING, ticker STRING, price DECIMAL(10, 4), volume INT, trade_timestamp TIMESTAMP_LTZ(3)
        ) WITH (
          'connector' = 'kafka', 'topic' = '${topic}',
          'properties.bootstrap.servers' = '127.0.0.1:${settings.ports.kafka}',
          'properties.group.id' = '${uniqueName('stack_it')}',
          'scan.startup.mode' = 'earliest-offset',
          'format' = 'json', 'json.timestamp-format.standard' = 'ISO-8601')`);
      // The JDBC connector 3.3 cannot write TIMESTAMP_LTZ: the sink column is a TIMESTAMP(3),
      // which with every JVM on UTC lands in timestamptz unshifted.
      await session.execute(`CREATE TABLE trades_out (
          trade_id STRING, ticker STRING, price DECIMAL(10, 4), volume INT, trade_timestamp TIMESTAMP(3),
          PRIMARY KEY (trade_id) NOT ENFORCED
        ) WITH (
          'connector' = 'jdbc', 'url' = '${jdbc.url}',
          'table-name' = '${table}', 'username' = '${jdbc.username}', 'password' = '${jdbc.password}',
          'sink.buffer-flush.interval' = '200ms')`);
      const insert = await session.execute(
        'INSERT INTO trades_out SELECT trade_id, ticker, price, volume, CAST(trade_timestamp AS TIMESTAMP(3)) FROM trades_in',
        { timeoutMs: 120_000 },
      );
      jobId = insert.jobId;
      expect(jobId).toMatch(/^[0-9a-f]{32}$/);

      const trades = [
        { trade_id: 'it-1', ticker: 'AAPL', price: '187.2300', volume: 1200, trade_timestamp: '2026-11-25T06:01:02.123Z' },
        { trade_id: 'it-2', ticker: 'MSFT', price: '410.0001', volume: 1_500_000, trade_timestamp: '2026-11-25T06:01:03.000Z' },
        { trade_id: 'it-3', ticker: 'AAPL', price: '187.2400', volume: 7, trade_timestamp: '2026-11-25T23:59:59.999Z' },
      ];
      await produceLines(
        topic,
        trades.map((t) => `${t.ticker}\t${JSON.stringify(t)}`),
        { keyed: true },
      );

      const rows = await waitFor(
        async () => {
          const found: Array<Record<string, unknown>> = await sql.unsafe(`select trade_id, ticker, price::text as price, volume,
            to_char(trade_timestamp at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as trade_timestamp
          from ${table} order by trade_id`);
          if (found.length >= trades.length) return found;
          if ((await flinkJobState(jobId!, settings)) === 'FAILED') throw new Error(`the INSERT job failed; see tickflow stack logs taskmanager`);
          return null;
        },
        { what: `${trades.length} rows in ${table}`, timeoutMs: 120_000, everyMs: 500 },
      );
      expect(rows).toEqual(trades);
    }, 300_000);
  });
});
