import type { PipelineSpec } from '../spec/spec.ts';
import { ident, intervalMs, str, withOptions } from './sql-text.ts';
import { EPOCH_START, FIELD_SQL, eventTimeSql, rejectCodeSql, rejectReasonSql } from './trade-validation-sql.ts';

/** Where the compiled job reads and writes: everything the spec leaves to the deployment. */
export interface FlinkTarget {
  /** Kafka bootstrap servers as the Flink cluster reaches them, e.g. 127.0.0.1:9092. */
  kafkaBootstrap: string;
  /** jdbc:postgresql://host:port/db of a database migrated by tickflow. */
  jdbcUrl: string;
  /** The JDBC connector wants user and password together (any password with trust auth). */
  jdbcUser: string;
  jdbcPassword: string;
  /** Flink job name; `tickflow flink deploy` finds a running copy by it. */
  jobName: string;
  /** Kafka consumer group: offsets are committed on checkpoints, so --replace resumes there. */
  groupId: string;
  parallelism: number;
  /** Prefix of the exactly-once alert producer's transactional ids (unique per job). */
  transactionalIdPrefix: string;
  /** Start from this savepoint or retained checkpoint (directory or _metadata path). */
  fromSavepoint?: string | undefined;
  /** Where this job's checkpoints go (deploy: one folder per job name, see checkpoints.ts); unset = the cluster's. */
  checkpointDir?: string | undefined;
}

export interface CompiledPipeline {
  /** SET statements, run in the session before everything else. */
  settings: Array<[string, string]>;
  /** CREATE TEMPORARY TABLE / VIEW statements. */
  ddl: string[];
  /** The single EXECUTE STATEMENT SET that is the job. */
  statementSet: string;
}

/** Default JDBC sink batching: big enough to amortise round trips, flushed at least twice a second. */
export const JDBC_BATCH = { maxRows: 2000, interval: '500ms', maxRetries: 5 } as const;

/**
 * The pipeline spec as Flink SQL (DESIGN.md §2b): one raw Kafka source whose computed columns
 * validate each record exactly as src/trade/parse.ts does; the valid trades deduplicated by
 * trade_id (first wins) and fanned out to stock_trades, large-trade alerts, candles (tumbling
 * windows) and volume-spike alerts (an OVER window); rejected records to dead_letters and the
 * dead-letter topic. All inserts in one EXECUTE STATEMENT SET: one job.
 */
export function compileSpec(spec: PipelineSpec, target: FlinkTarget): CompiledPipeline {
  const maxBytes = spec.input.maxRecordBytes;
  const { largeTrade, volumeSpike } = spec.rules;
  const exactlyOnce = spec.delivery.alerts === 'exactly-once';

  const settings: Array<[string, string]> = [
    // Windows align and TIMESTAMP columns convert in this zone; the JVMs run in UTC as well.
    ['table.local-time-zone', 'UTC'],
    ['pipeline.name', target.jobName],
    ['parallelism.default', String(target.parallelism)],
    ['execution.checkpointing.interval', `${spec.delivery.checkpointIntervalMs}ms`],
    ['execution.checkpointing.mode', 'EXACTLY_ONCE'],
    ['execution.checkpointing.externalized-checkpoint-retention', 'RETAIN_ON_CANCELLATION'],
    ['execution.checkpointing.timeout', '2min'],
    ['restart-strategy.type', 'exponential-delay'],
    ['restart-strategy.exponential-delay.initial-backoff', '1s'],
    ['restart-strategy.exponential-delay.max-backoff', '10s'],
    // A partition without records must not hold the watermark back, or windows never close.
    ['table.exec.source.idle-timeout', `${spec.input.idleTimeoutMs}ms`],
    // The dedupe horizon. Flink SQL has one state TTL per job (processing time), see docs/flink.md.
    ['table.exec.state.ttl', `${spec.dedupe.horizonMs}ms`],
    // Inputs to the upsert sinks are append-only; no need for the materializer's state.
    ['table.exec.sink.upsert-materialize', 'NONE'],
  ];
  if (target.checkpointDir !== undefined) settings.push(['execution.checkpointing.dir', target.checkpointDir]);
  if (target.fromSavepoint !== undefined) settings.push(['execution.state-recovery.path', target.fromSavepoint]);

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

  const ddl: string[] = [];
  ddl.push(`CREATE TEMPORARY TABLE tf_source (
  ${ident('raw_value')} BYTES,
  ${ident('source_topic')} STRING METADATA FROM 'topic' VIRTUAL,
  ${ident('source_partition')} INT METADATA FROM 'partition' VIRTUAL,
  ${ident('source_offset')} BIGINT METADATA FROM 'offset' VIRTUAL,
  proc_time AS PROCTIME(),
  -- The whole validation, inlined: rejected records get a time before the epoch so they never move the watermark.
  event_time AS ${eventTimeSql(maxBytes)},
  WATERMARK FOR event_time AS event_time - ${intervalMs(spec.input.outOfOrdernessMs)}
) ${withOptions({
    connector: 'kafka',
    topic: spec.input.topic,
    ...kafka,
    'properties.group.id': target.groupId,
    // First start: from the beginning; later starts (--replace): from the offsets committed on checkpoints.
    'scan.startup.mode': 'group-offsets',
    'properties.auto.offset.reset': 'earliest',
    // Raw bytes, so a malformed record is routed to the dead letters, never skipped.
    'value.format': 'raw',
  })}`);

  // Valid or not, and late or not: `late` is judged here, next to the source, against the
  // watermark the record meets on arrival (DESIGN.md §2b), before any shuffle.
  ddl.push(`CREATE TEMPORARY VIEW tf_records AS
SELECT ${ident('raw_value')}, ${ident('source_topic')}, ${ident('source_partition')}, ${ident('source_offset')}, proc_time, event_time,
  event_time >= ${EPOCH_START} AS is_valid,
  COALESCE(event_time < CURRENT_WATERMARK(event_time), FALSE) AS is_late
FROM tf_source`);

  ddl.push(`CREATE TEMPORARY VIEW tf_valid AS
SELECT ${FIELD_SQL.tradeId} AS trade_id, ${FIELD_SQL.ticker} AS ticker, ${FIELD_SQL.price} AS price, ${FIELD_SQL.volume} AS volume,
  event_time, proc_time, ${ident('source_offset')} AS source_offset, is_late
FROM tf_records WHERE is_valid`);

  // First trade_id wins: keep-first-row deduplication in arrival order (append-only, rowtime kept).
  ddl.push(`CREATE TEMPORARY VIEW tf_trades AS
SELECT trade_id, ticker, price, volume, event_time, source_offset, is_late FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY trade_id ORDER BY proc_time ASC) AS row_num FROM tf_valid
) WHERE row_num = 1`);

  ddl.push(`CREATE TEMPORARY VIEW tf_on_time AS SELECT * FROM tf_trades WHERE NOT is_late`);

  ddl.push(`CREATE TEMPORARY VIEW tf_rejected AS
SELECT ${ident('raw_value')}, ${ident('source_topic')}, ${ident('source_partition')}, ${ident('source_offset')},
  ${rejectCodeSql(maxBytes)} AS reason_code,
  ${rejectReasonSql(maxBytes)} AS reason,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP(3)) AS received_at
FROM tf_records WHERE NOT is_valid`);

  const alertSelects: string[] = [];
  if (largeTrade.enabled) {
    alertSelects.push(`SELECT CONCAT('large:', trade_id) AS alert_id, CAST('large_trade' AS STRING) AS kind, trade_id, ticker, price, volume, event_time,
  CAST(${largeTrade.threshold} AS BIGINT) AS threshold, CAST(NULL AS DECIMAL(20, 4)) AS baseline_mean,
  CAST(NULL AS DECIMAL(8, 2)) AS factor, CAST(NULL AS INT) AS lookback,
  CONCAT('Large trade detected for ', ticker) AS message
FROM tf_trades WHERE volume > ${largeTrade.threshold}`);
  }
  if (volumeSpike.enabled) {
    const n = volumeSpike.lookback;
    const factorHundredths = Math.round(volumeSpike.factor * 100);
    // volume > factor × mean(previous n) ⇔ volume·n·100 > factor·100·Σ(previous n), in integers (as the embedded engine).
    // The frame holds the previous n rows and the current one; the current one is taken back out.
    ddl.push(`CREATE TEMPORARY VIEW tf_spikes AS
SELECT trade_id, ticker, price, volume, event_time, prev_sum FROM (
  SELECT trade_id, ticker, price, volume, event_time,
    COUNT(*) OVER w - 1 AS prev_count,
    SUM(CAST(volume AS BIGINT)) OVER w - volume AS prev_sum
  FROM tf_on_time
  WINDOW w AS (PARTITION BY ticker ORDER BY event_time ROWS BETWEEN ${n} PRECEDING AND CURRENT ROW)
) WHERE prev_count >= ${n} AND CAST(volume AS BIGINT) * ${n * 100} > CAST(${factorHundredths} AS BIGINT) * prev_sum`);
    // Baseline mean ×10^4 rounded half-up, in integers: q + (2r ≥ n).
    const num = 'prev_sum * 10000';
    alertSelects.push(`SELECT CONCAT('spike:', trade_id) AS alert_id, CAST('volume_spike' AS STRING) AS kind, trade_id, ticker, price, volume, event_time,
  CAST(NULL AS BIGINT) AS threshold,
  CAST(CAST(${num} / ${n} + CASE WHEN 2 * (${num} - ${num} / ${n} * ${n}) >= ${n} THEN 1 ELSE 0 END AS DECIMAL(24, 0)) / 10000 AS DECIMAL(20, 4)) AS baseline_mean,
  CAST(${volumeSpike.factor} AS DECIMAL(8, 2)) AS factor, CAST(${n} AS INT) AS lookback,
  CONCAT('Volume spike detected for ', ticker) AS message
FROM tf_spikes`);
  }
  if (alertSelects.length > 0) {
    ddl.push(`CREATE TEMPORARY VIEW tf_alerts AS\n${alertSelects.join('\nUNION ALL\n')}`);
  }

  // Candles: open/close are the first/last trade in arrival order, which is Kafka offset order
  // within the ticker's partition; encoding (offset, price) in one number keeps it exact after
  // the shuffles (FIRST_VALUE would see the order in which records reach the window operator).
  const E10 = '10000000000';
  const priceE4 = 'CAST(price * 10000 AS DECIMAL(38, 0))';
  const orderKey = `CAST(source_offset AS DECIMAL(38, 0)) * ${E10} + ${priceE4}`;
  ddl.push(`CREATE TEMPORARY VIEW tf_candles AS
SELECT ticker, window_start, window_end,
  CAST(CAST(MOD(open_key, ${E10}) AS DECIMAL(38, 0)) / 10000 AS DECIMAL(10, 4)) AS open_price,
  high_price, low_price,
  CAST(CAST(MOD(close_key, ${E10}) AS DECIMAL(38, 0)) / 10000 AS DECIMAL(10, 4)) AS close_price,
  total_volume,
  CAST(CAST((notional_e4 - MOD(notional_e4, total_volume)) / total_volume
    + CASE WHEN 2 * MOD(notional_e4, total_volume) >= total_volume THEN 1 ELSE 0 END AS DECIMAL(38, 0)) / 10000 AS DECIMAL(10, 4)) AS vwap,
  trade_count
FROM (
  SELECT ticker, window_start, window_end,
    MIN(${orderKey}) AS open_key, MAX(${orderKey}) AS close_key,
    MAX(price) AS high_price, MIN(price) AS low_price,
    SUM(CAST(volume AS BIGINT)) AS total_volume,
    SUM(${priceE4} * volume) AS notional_e4,
    CAST(COUNT(*) AS INT) AS trade_count
  FROM TABLE(TUMBLE(TABLE tf_on_time, DESCRIPTOR(event_time), ${intervalMs(spec.candles.intervalMs)}))
  GROUP BY ticker, window_start, window_end
)`);

  // Sinks. JDBC: tables created by tickflow's migrations; TIMESTAMP(3) columns because the JDBC
  // connector 3.3 cannot write TIMESTAMP_LTZ (UTC session and JVMs: lands in timestamptz unshifted).
  ddl.push(`CREATE TEMPORARY TABLE tf_stock_trades (
  trade_id STRING, ticker STRING, price DECIMAL(10, 4), volume INT, trade_timestamp TIMESTAMP(3),
  PRIMARY KEY (trade_id) NOT ENFORCED
) ${withOptions(jdbc('stock_trades'))}`);
  ddl.push(`CREATE TEMPORARY TABLE tf_trade_candles (
  ticker STRING, window_start TIMESTAMP(3), window_end TIMESTAMP(3), ${ident('open')} DECIMAL(10, 4), high DECIMAL(10, 4),
  low DECIMAL(10, 4), ${ident('close')} DECIMAL(10, 4), volume BIGINT, vwap DECIMAL(10, 4), trade_count INT,
  PRIMARY KEY (ticker, window_start) NOT ENFORCED
) ${withOptions(jdbc('trade_candles'))}`);
  ddl.push(`CREATE TEMPORARY TABLE tf_trade_alerts (
  alert_id STRING, kind STRING, trade_id STRING, ticker STRING, price DECIMAL(10, 4), volume INT,
  trade_timestamp TIMESTAMP(3), threshold BIGINT, baseline_mean DECIMAL(20, 4), factor DECIMAL(8, 2), lookback INT,
  detected_at TIMESTAMP(3), message STRING,
  PRIMARY KEY (alert_id) NOT ENFORCED
) ${withOptions(jdbc('trade_alerts'))}`);
  ddl.push(`CREATE TEMPORARY TABLE tf_dead_letters (
  received_at TIMESTAMP(3), reason_code STRING, reason STRING, ${ident('raw')} BYTES,
  source STRING, source_partition INT, source_offset BIGINT,
  PRIMARY KEY (source, source_partition, source_offset) NOT ENFORCED
) ${withOptions(jdbc('dead_letters'))}`);

  // Alerts topic: the JSON of src/kafka/alert-json.ts (DESIGN.md §2), key = ticker, absent fields omitted.
  ddl.push(`CREATE TEMPORARY TABLE tf_alerts_topic (
  alert_id STRING, kind STRING, trade_id STRING, ticker STRING, price STRING, volume INT, trade_timestamp STRING,
  threshold BIGINT, baseline_mean STRING, factor DOUBLE, lookback INT, detected_at STRING, message STRING
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
  })}`);

  // Dead-letter topic: the record's bytes unchanged, everything about it in headers (src/kafka/dead-letter-record.ts).
  ddl.push(`CREATE TEMPORARY TABLE tf_dlq_topic (
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
  })}`);

  const iso = (col: string): string => `DATE_FORMAT(${col}, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''')`;
  const inserts: string[] = [
    `INSERT INTO tf_stock_trades
SELECT trade_id, ticker, price, volume, CAST(event_time AS TIMESTAMP(3)) FROM tf_trades`,
    `INSERT INTO tf_trade_candles
SELECT ticker, window_start, window_end, open_price, high_price, low_price, close_price, total_volume, vwap, trade_count FROM tf_candles`,
    `INSERT INTO tf_dead_letters
SELECT received_at, reason_code, reason, ${ident('raw_value')}, ${ident('source_topic')}, ${ident('source_partition')}, ${ident('source_offset')} FROM tf_rejected`,
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
FROM tf_rejected`,
  ];
  if (alertSelects.length > 0) {
    inserts.push(`INSERT INTO tf_trade_alerts
SELECT alert_id, kind, trade_id, ticker, price, volume, CAST(event_time AS TIMESTAMP(3)), threshold, baseline_mean, factor, lookback,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP(3)), message
FROM tf_alerts`);
    inserts.push(`INSERT INTO tf_alerts_topic
SELECT alert_id, kind, trade_id, ticker, CAST(price AS STRING), volume, ${iso('event_time')}, threshold,
  CAST(baseline_mean AS STRING), CAST(factor AS DOUBLE), lookback, ${iso('CURRENT_TIMESTAMP')}, message
FROM tf_alerts`);
  }
  const statementSet = `EXECUTE STATEMENT SET\nBEGIN\n${inserts.map((i) => `${i};`).join('\n\n')}\nEND`;
  return { settings, ddl, statementSet };
}

/** The whole job as one SQL script a user can read or paste into the Flink SQL client. */
export function pipelineSqlScript(compiled: CompiledPipeline): string {
  return [
    '-- tickflow pipeline, compiled from the pipeline spec (tickflow flink sql). One EXECUTE STATEMENT SET = one Flink job.',
    ...compiled.settings.map(([k, v]) => `SET ${str(k)} = ${str(v)};`),
    '',
    ...compiled.ddl.map((d) => `${d};\n`),
    `${compiled.statementSet};`,
    '',
  ].join('\n');
}
