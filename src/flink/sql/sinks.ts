import { ALERT_DETAIL_COLUMNS, type AlertDetailColumn, DETAIL_COLUMN_NAMES } from '../../rules/alert-columns.ts';
import type { PipelineSpec } from '../../spec/spec.ts';
import type { FlinkTarget } from '../compile-spec.ts';
import { ident, withOptions } from '../sql-text.ts';
import { VIEW, type SqlFragment } from './views.ts';

/** Default JDBC sink batching: big enough to amortise round trips, flushed at least twice a second. */
export const JDBC_BATCH = { maxRows: 2000, interval: '500ms', maxRetries: 5 } as const;

/** The JSON's types: exact decimals as strings, the factor as a number (src/kafka/alert-json.ts). */
function jsonType(c: AlertDetailColumn): string {
  const col = ALERT_DETAIL_COLUMNS[c];
  if (col.json === 'string') return 'STRING';
  return col.flink.startsWith('DECIMAL') ? 'DOUBLE' : col.flink;
}

const iso = (col: string): string => `DATE_FORMAT(${col}, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''')`;

/**
 * Where the job writes: the four tables tickflow's migrations create (JDBC upserts by primary
 * key, so a replay after a restore is idempotent), the alerts topic (src/kafka/alert-json.ts's
 * JSON) and the dead-letter topic (the record's bytes, everything about it in headers, as
 * src/kafka/dead-letter-record.ts writes them).
 *
 * TIMESTAMP(3) columns because the JDBC connector 3.3 cannot write TIMESTAMP_LTZ (UTC session
 * and JVMs: lands in timestamptz unshifted).
 */
export function sinks(spec: PipelineSpec, target: FlinkTarget, hasAlerts: boolean): SqlFragment {
  const exactlyOnce = spec.delivery.alerts === 'exactly-once';
  const kafka = { 'properties.bootstrap.servers': target.kafkaBootstrap };
  const jdbc = (table: string): Record<string, string> => ({
    connector: 'jdbc',
    url: target.jdbcUrl,
    'table-name': table,
    username: target.jdbcUser,
    password: target.jdbcPassword,
    'sink.buffer-flush.max-rows': String(JDBC_BATCH.maxRows),
    'sink.buffer-flush.interval': JDBC_BATCH.interval,
    'sink.max-retries': String(JDBC_BATCH.maxRetries),
  });
  const source = `${ident('source_topic')}, ${ident('source_partition')}, ${ident('source_offset')}`;

  const ddl = [
    `CREATE TEMPORARY TABLE tf_stock_trades (
  trade_id STRING, ticker STRING, price DECIMAL(10, 4), volume INT, trade_timestamp TIMESTAMP(3),
  PRIMARY KEY (trade_id) NOT ENFORCED
) ${withOptions(jdbc('stock_trades'))}`,
    `CREATE TEMPORARY TABLE tf_trade_candles (
  ticker STRING, window_start TIMESTAMP(3), window_end TIMESTAMP(3), ${ident('open')} DECIMAL(10, 4), high DECIMAL(10, 4),
  low DECIMAL(10, 4), ${ident('close')} DECIMAL(10, 4), volume BIGINT, vwap DECIMAL(10, 4), trade_count INT,
  PRIMARY KEY (ticker, window_start) NOT ENFORCED
) ${withOptions(jdbc('trade_candles'))}`,
    `CREATE TEMPORARY TABLE tf_dead_letters (
  received_at TIMESTAMP(3), reason_code STRING, reason STRING, ${ident('raw')} BYTES,
  source STRING, source_partition INT, source_offset BIGINT,
  PRIMARY KEY (source, source_partition, source_offset) NOT ENFORCED
) ${withOptions(jdbc('dead_letters'))}`,
    `CREATE TEMPORARY TABLE tf_dlq_topic (
  dlq_key STRING, payload BYTES, headers MAP<STRING, BYTES> METADATA
) ${withOptions({
      connector: 'kafka',
      topic: spec.topics.deadLetters,
      ...kafka,
      'key.format': 'raw',
      'key.fields': 'dlq_key',
      'value.format': 'raw',
      'value.fields-include': 'EXCEPT_KEY',
      'sink.delivery-guarantee': 'at-least-once',
    })}`,
  ];
  const inserts = [
    `INSERT INTO tf_stock_trades
SELECT trade_id, ticker, price, volume, CAST(event_time AS TIMESTAMP(3)) FROM ${VIEW.trades}`,
    `INSERT INTO tf_trade_candles
SELECT ticker, window_start, window_end, open_price, high_price, low_price, close_price, total_volume, vwap, trade_count FROM ${VIEW.candles}`,
    `INSERT INTO tf_dead_letters
SELECT received_at, reason_code, reason, ${ident('raw_value')}, ${source} FROM ${VIEW.rejected}`,
    `INSERT INTO tf_dlq_topic
SELECT CONCAT(${ident('source_topic')}, ':', CAST(${ident('source_partition')} AS STRING), ':', CAST(${ident('source_offset')} AS STRING)),
  ${ident('raw_value')},
  MAP[
    'tickflow.reason', ENCODE(reason, 'UTF-8'),
    'tickflow.reason.code', ENCODE(reason_code, 'UTF-8'),
    'tickflow.source.topic', ENCODE(${ident('source_topic')}, 'UTF-8'),
    'tickflow.source.partition', ENCODE(CAST(${ident('source_partition')} AS STRING), 'UTF-8'),
    'tickflow.source.offset', ENCODE(CAST(${ident('source_offset')} AS STRING), 'UTF-8'),
    'tickflow.received.at', ENCODE(${iso('received_at')}, 'UTF-8')
  ]
FROM ${VIEW.rejected}`,
  ];

  if (hasAlerts) {
    ddl.push(
      `CREATE TEMPORARY TABLE tf_trade_alerts (
  alert_id STRING, kind STRING, rule STRING, severity STRING, trade_id STRING, ticker STRING, price DECIMAL(10, 4), volume INT,
  trade_timestamp TIMESTAMP(3), ${DETAIL_COLUMN_NAMES.map((c) => `${c} ${ALERT_DETAIL_COLUMNS[c].flink}`).join(', ')},
  detected_at TIMESTAMP(3), message STRING,
  PRIMARY KEY (alert_id) NOT ENFORCED
) ${withOptions(jdbc('trade_alerts'))}`,
      // Key = ticker, absent fields omitted.
      `CREATE TEMPORARY TABLE tf_alerts_topic (
  alert_id STRING, kind STRING, rule STRING, severity STRING, trade_id STRING, ticker STRING, price STRING, volume INT,
  trade_timestamp STRING, ${DETAIL_COLUMN_NAMES.map((c) => `${c} ${jsonType(c)}`).join(', ')}, detected_at STRING, message STRING
) ${withOptions({
        connector: 'kafka',
        topic: spec.topics.alerts,
        ...kafka,
        'key.format': 'raw',
        'key.fields': 'ticker',
        'value.format': 'json',
        'value.fields-include': 'ALL',
        'value.json.encode.ignore-null-fields': 'true',
        ...(exactlyOnce
          ? {
              'sink.delivery-guarantee': 'exactly-once',
              'sink.transactional-id-prefix': target.transactionalIdPrefix,
              // Within the broker's default transaction.max.timeout.ms (15 min) on any cluster.
              'properties.transaction.timeout.ms': '900000',
            }
          : { 'sink.delivery-guarantee': 'at-least-once' }),
      })}`,
    );
    inserts.push(
      `INSERT INTO tf_trade_alerts
SELECT alert_id, kind, rule, severity, trade_id, ticker, price, volume, CAST(event_time AS TIMESTAMP(3)), ${DETAIL_COLUMN_NAMES.join(', ')},
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP(3)), message
FROM ${VIEW.alerts}`,
      `INSERT INTO tf_alerts_topic
SELECT alert_id, kind, rule, severity, trade_id, ticker, CAST(price AS STRING), volume, ${iso('event_time')},
  ${DETAIL_COLUMN_NAMES.map((c) => (jsonType(c) === ALERT_DETAIL_COLUMNS[c].flink ? c : `CAST(${c} AS ${jsonType(c)})`)).join(', ')}, ${iso('CURRENT_TIMESTAMP')}, message
FROM ${VIEW.alerts}`,
    );
  }
  return { ddl, inserts };
}
