-- tickflow pipeline, compiled from the pipeline spec (tickflow flink sql). One EXECUTE STATEMENT SET = one Flink job.
SET 'table.local-time-zone' = 'UTC';
SET 'pipeline.name' = 'tickflow';
SET 'parallelism.default' = '3';
SET 'execution.checkpointing.interval' = '2000ms';
SET 'execution.checkpointing.mode' = 'EXACTLY_ONCE';
SET 'execution.checkpointing.externalized-checkpoint-retention' = 'RETAIN_ON_CANCELLATION';
SET 'execution.checkpointing.timeout' = '2min';
SET 'restart-strategy.type' = 'exponential-delay';
SET 'restart-strategy.exponential-delay.initial-backoff' = '1s';
SET 'restart-strategy.exponential-delay.max-backoff' = '10s';
SET 'table.exec.source.idle-timeout' = '10000ms';
SET 'table.exec.state.ttl' = '600000ms';
SET 'table.exec.sink.upsert-materialize' = 'NONE';
SET 'table.optimizer.reuse-optimize-block-with-digest-enabled' = 'true';
SET 'pipeline.object-reuse' = 'true';
SET 'execution.checkpointing.dir' = 'file:///var/flink/checkpoints/tickflow';

-- The trade parser (stack/udf, the Java twin of src/trade/parse.ts). Its jar is on the classpath of a
-- `tickflow stack up` cluster; on another cluster put it in lib/ of every Flink process, or uncomment:
-- ADD JAR '/opt/tickflow/tickflow-udf.jar';
CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS tickflow_parse AS 'dev.tickflow.udf.ParseTrade' LANGUAGE JAVA;
CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS tickflow_event_time AS 'dev.tickflow.udf.ParseEventTime' LANGUAGE JAVA;

CREATE TEMPORARY TABLE tf_source (
  `raw_value` BYTES,
  `source_topic` STRING METADATA FROM 'topic' VIRTUAL,
  `source_partition` INT METADATA FROM 'partition' VIRTUAL,
  `source_offset` BIGINT METADATA FROM 'offset' VIRTUAL,
  proc_time AS PROCTIME(),
  event_time AS tickflow_event_time(`raw_value`, 65536),
  WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND(2)
) WITH (
  'connector' = 'kafka',
  'topic' = 'trades',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'properties.group.id' = 'tickflow-flink',
  'scan.startup.mode' = 'group-offsets',
  'properties.auto.offset.reset' = 'earliest',
  'value.format' = 'raw',
  'scan.watermark.alignment.group' = 'tickflow',
  'scan.watermark.alignment.max-drift' = '5000ms',
  'scan.watermark.alignment.update-interval' = '100ms'
);

CREATE TEMPORARY VIEW tf_records AS
SELECT `raw_value`, `source_topic`, `source_partition`, `source_offset`, proc_time, event_time,
  tickflow_parse(`raw_value`, 65536) AS parsed,
  COALESCE(event_time < CURRENT_WATERMARK(event_time), FALSE) AS is_late
FROM tf_source;

CREATE TEMPORARY VIEW tf_valid AS
SELECT r.parsed.trade_id AS trade_id, r.parsed.ticker AS ticker, r.parsed.price AS price, r.parsed.volume AS volume,
  event_time, proc_time, `source_offset` AS source_offset, is_late
FROM tf_records AS r WHERE r.parsed.reason_code IS NULL;

CREATE TEMPORARY VIEW tf_rejected AS
SELECT `raw_value`, `source_topic`, `source_partition`, `source_offset`, r.parsed.reason_code AS reason_code, r.parsed.reason AS reason,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP(3)) AS received_at
FROM tf_records AS r WHERE r.parsed.reason_code IS NOT NULL AND r.parsed.reason_code <> 'heartbeat';

CREATE TEMPORARY VIEW tf_trades AS
SELECT trade_id, ticker, price, volume, event_time, source_offset, is_late FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY trade_id ORDER BY proc_time ASC) AS row_num FROM tf_valid
) WHERE row_num = 1;

CREATE TEMPORARY VIEW tf_on_time AS SELECT * FROM tf_trades WHERE NOT is_late;

CREATE TEMPORARY VIEW tf_rule0_hits AS
SELECT trade_id, ticker, price, volume, event_time, threshold FROM (
  SELECT trade_id, ticker, price, volume, event_time, CAST(1000000 AS BIGINT) AS threshold FROM tf_trades
) WHERE volume > threshold;

CREATE TEMPORARY VIEW tf_rule1_in_order AS
SELECT trade_id, ticker, price, volume, event_time,
  COUNT(*) OVER (PARTITION BY ticker ORDER BY event_time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - 1 AS prev_count
FROM tf_on_time;

CREATE TEMPORARY VIEW tf_rule1_spikes AS
SELECT trade_id, ticker, price, volume, event_time, prev_sum FROM (
  SELECT trade_id, ticker, price, volume, event_time, prev_count,
    SUM(CAST(volume AS BIGINT)) OVER (PARTITION BY ticker ORDER BY arrival ROWS BETWEEN 50 PRECEDING AND CURRENT ROW) - volume AS prev_sum
  FROM (SELECT *, PROCTIME() AS arrival FROM tf_rule1_in_order)
) WHERE prev_count >= 50 AND CAST(volume AS BIGINT) * 5000 > CAST(1000 AS BIGINT) * prev_sum;

CREATE TEMPORARY VIEW tf_rule1_hits AS
SELECT trade_id, ticker, price, volume, event_time,
  CAST(CAST(prev_sum * 10000 / 50 + CASE WHEN 2 * (prev_sum * 10000 - prev_sum * 10000 / 50 * 50) >= 50 THEN 1 ELSE 0 END AS DECIMAL(24, 0)) / 10000 AS DECIMAL(20, 4)) AS baseline_mean,
  CAST(10 AS DECIMAL(8, 2)) AS factor, CAST(50 AS INT) AS lookback
FROM tf_rule1_spikes;

CREATE TEMPORARY VIEW tf_alerts AS
SELECT CONCAT('large:', trade_id) AS alert_id, CAST('large_trade' AS STRING) AS kind,
  CAST('large' AS STRING) AS rule, CAST('warning' AS STRING) AS severity,
  trade_id, ticker, price, volume, event_time, threshold, CAST(NULL AS DECIMAL(20, 2)) AS amount, CAST(NULL AS DECIMAL(24, 4)) AS notional, CAST(NULL AS DECIMAL(20, 4)) AS baseline_mean, CAST(NULL AS DECIMAL(8, 2)) AS factor, CAST(NULL AS INT) AS lookback, CAST(NULL AS DECIMAL(10, 4)) AS reference_price, CAST(NULL AS DECIMAL(10, 2)) AS change_percent, CAST(NULL AS INT) AS window_seconds,
  CONCAT('Large trade detected for ', ticker) AS message
FROM tf_rule0_hits
UNION ALL
SELECT CONCAT('spike:', trade_id) AS alert_id, CAST('volume_spike' AS STRING) AS kind,
  CAST('spike' AS STRING) AS rule, CAST('warning' AS STRING) AS severity,
  trade_id, ticker, price, volume, event_time, CAST(NULL AS BIGINT) AS threshold, CAST(NULL AS DECIMAL(20, 2)) AS amount, CAST(NULL AS DECIMAL(24, 4)) AS notional, baseline_mean, factor, lookback, CAST(NULL AS DECIMAL(10, 4)) AS reference_price, CAST(NULL AS DECIMAL(10, 2)) AS change_percent, CAST(NULL AS INT) AS window_seconds,
  CONCAT('Volume spike detected for ', ticker) AS message
FROM tf_rule1_hits;

CREATE TEMPORARY VIEW tf_candles AS
SELECT ticker, window_start, window_end,
  CAST(CAST(COALESCE(MOD(open_small, 10000000000), CAST(MOD(open_large, CAST(10000000000 AS DECIMAL(38, 0))) AS BIGINT)) AS DECIMAL(38, 0)) / 10000 AS DECIMAL(10, 4)) AS open_price,
  high_price, low_price,
  CAST(CAST(COALESCE(MOD(close_small, 10000000000), CAST(MOD(close_large, CAST(10000000000 AS DECIMAL(38, 0))) AS BIGINT)) AS DECIMAL(38, 0)) / 10000 AS DECIMAL(10, 4)) AS close_price,
  total_volume,
  CAST(CAST((notional_e4 - MOD(notional_e4, total_volume)) / total_volume
    + CASE WHEN 2 * MOD(notional_e4, total_volume) >= total_volume THEN 1 ELSE 0 END AS DECIMAL(38, 0)) / 10000 AS DECIMAL(10, 4)) AS vwap,
  trade_count
FROM (
  SELECT ticker, window_start, window_end, open_small, open_large,
    CASE WHEN close_large IS NULL THEN close_small END AS close_small, close_large,
    high_price, low_price, total_volume,
    CAST(notional_hi AS DECIMAL(38, 0)) * 100000 + notional_lo AS notional_e4,
    trade_count
  FROM (
    SELECT ticker, window_start, window_end,
      MIN(CASE WHEN source_offset < 900000000 THEN source_offset * 10000000000 + CAST(price * 10000 AS BIGINT) END) AS open_small, MIN(CASE WHEN NOT (source_offset < 900000000) THEN CAST(source_offset AS DECIMAL(38, 0)) * CAST(10000000000 AS DECIMAL(38, 0)) + CAST(CAST(price * 10000 AS BIGINT) AS DECIMAL(38, 0)) END) AS open_large,
      MAX(CASE WHEN source_offset < 900000000 THEN source_offset * 10000000000 + CAST(price * 10000 AS BIGINT) END) AS close_small, MAX(CASE WHEN NOT (source_offset < 900000000) THEN CAST(source_offset AS DECIMAL(38, 0)) * CAST(10000000000 AS DECIMAL(38, 0)) + CAST(CAST(price * 10000 AS BIGINT) AS DECIMAL(38, 0)) END) AS close_large,
      MAX(price) AS high_price, MIN(price) AS low_price,
      SUM(CAST(volume AS BIGINT)) AS total_volume,
      SUM(CAST(price * 10000 AS BIGINT) / 100000 * CAST(volume AS BIGINT)) AS notional_hi,
      SUM(CAST(MOD(CAST(price * 10000 AS BIGINT), 100000) AS BIGINT) * CAST(volume AS BIGINT)) AS notional_lo,
      CAST(COUNT(*) AS INT) AS trade_count
    FROM TABLE(TUMBLE(TABLE tf_on_time, DESCRIPTOR(event_time), INTERVAL '60' SECOND(2)))
    GROUP BY ticker, window_start, window_end
  )
);

CREATE TEMPORARY TABLE tf_stock_trades (
  trade_id STRING, ticker STRING, price DECIMAL(10, 4), volume INT, trade_timestamp TIMESTAMP(3),
  PRIMARY KEY (trade_id) NOT ENFORCED
) WITH (
  'connector' = 'jdbc',
  'url' = 'jdbc:postgresql://127.0.0.1:5432/tickflow?reWriteBatchedInserts=true',
  'table-name' = 'stock_trades',
  'username' = 'postgres',
  'password' = '***',
  'sink.buffer-flush.max-rows' = '2000',
  'sink.buffer-flush.interval' = '500ms',
  'sink.max-retries' = '5'
);

CREATE TEMPORARY TABLE tf_trade_candles (
  ticker STRING, window_start TIMESTAMP(3), window_end TIMESTAMP(3), `open` DECIMAL(10, 4), high DECIMAL(10, 4),
  low DECIMAL(10, 4), `close` DECIMAL(10, 4), volume BIGINT, vwap DECIMAL(10, 4), trade_count INT,
  PRIMARY KEY (ticker, window_start) NOT ENFORCED
) WITH (
  'connector' = 'jdbc',
  'url' = 'jdbc:postgresql://127.0.0.1:5432/tickflow?reWriteBatchedInserts=true',
  'table-name' = 'trade_candles',
  'username' = 'postgres',
  'password' = '***',
  'sink.buffer-flush.max-rows' = '2000',
  'sink.buffer-flush.interval' = '500ms',
  'sink.max-retries' = '5'
);

CREATE TEMPORARY TABLE tf_dead_letters (
  received_at TIMESTAMP(3), reason_code STRING, reason STRING, `raw` BYTES,
  source STRING, source_partition INT, source_offset BIGINT,
  PRIMARY KEY (source, source_partition, source_offset) NOT ENFORCED
) WITH (
  'connector' = 'jdbc',
  'url' = 'jdbc:postgresql://127.0.0.1:5432/tickflow?reWriteBatchedInserts=true',
  'table-name' = 'dead_letters',
  'username' = 'postgres',
  'password' = '***',
  'sink.buffer-flush.max-rows' = '2000',
  'sink.buffer-flush.interval' = '500ms',
  'sink.max-retries' = '5'
);

CREATE TEMPORARY TABLE tf_dlq_topic (
  dlq_key STRING, payload BYTES, headers MAP<STRING, BYTES> METADATA
) WITH (
  'connector' = 'kafka',
  'topic' = 'trades.dlq',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'key.format' = 'raw',
  'key.fields' = 'dlq_key',
  'value.format' = 'raw',
  'value.fields-include' = 'EXCEPT_KEY',
  'sink.delivery-guarantee' = 'at-least-once'
);

CREATE TEMPORARY TABLE tf_trade_alerts (
  alert_id STRING, kind STRING, rule STRING, severity STRING, trade_id STRING, ticker STRING, price DECIMAL(10, 4), volume INT,
  trade_timestamp TIMESTAMP(3), threshold BIGINT, amount DECIMAL(20, 2), notional DECIMAL(24, 4), baseline_mean DECIMAL(20, 4), factor DECIMAL(8, 2), lookback INT, reference_price DECIMAL(10, 4), change_percent DECIMAL(10, 2), window_seconds INT,
  detected_at TIMESTAMP(3), message STRING,
  PRIMARY KEY (alert_id) NOT ENFORCED
) WITH (
  'connector' = 'jdbc',
  'url' = 'jdbc:postgresql://127.0.0.1:5432/tickflow?reWriteBatchedInserts=true',
  'table-name' = 'trade_alerts',
  'username' = 'postgres',
  'password' = '***',
  'sink.buffer-flush.max-rows' = '2000',
  'sink.buffer-flush.interval' = '500ms',
  'sink.max-retries' = '5'
);

CREATE TEMPORARY TABLE tf_alerts_topic (
  alert_id STRING, kind STRING, rule STRING, severity STRING, trade_id STRING, ticker STRING, price STRING, volume INT,
  trade_timestamp STRING, threshold BIGINT, amount STRING, notional STRING, baseline_mean STRING, factor DOUBLE, lookback INT, reference_price STRING, change_percent STRING, window_seconds INT, detected_at STRING, message STRING
) WITH (
  'connector' = 'kafka',
  'topic' = 'alerts',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'key.format' = 'raw',
  'key.fields' = 'ticker',
  'value.format' = 'json',
  'value.fields-include' = 'ALL',
  'value.json.encode.ignore-null-fields' = 'true',
  'sink.delivery-guarantee' = 'exactly-once',
  'sink.transactional-id-prefix' = 'tickflow-alerts',
  'properties.transaction.timeout.ms' = '900000'
);

EXECUTE STATEMENT SET
BEGIN
INSERT INTO tf_stock_trades
SELECT trade_id, ticker, price, volume, CAST(event_time AS TIMESTAMP(3)) FROM tf_trades;

INSERT INTO tf_trade_candles
SELECT ticker, window_start, window_end, open_price, high_price, low_price, close_price, total_volume, vwap, trade_count FROM tf_candles;

INSERT INTO tf_dead_letters
SELECT received_at, reason_code, reason, `raw_value`, `source_topic`, `source_partition`, `source_offset` FROM tf_rejected;

INSERT INTO tf_dlq_topic
SELECT CONCAT(`source_topic`, ':', CAST(`source_partition` AS STRING), ':', CAST(`source_offset` AS STRING)),
  `raw_value`,
  MAP[
    'tickflow.reason', ENCODE(reason, 'UTF-8'),
    'tickflow.reason.code', ENCODE(reason_code, 'UTF-8'),
    'tickflow.source.topic', ENCODE(`source_topic`, 'UTF-8'),
    'tickflow.source.partition', ENCODE(CAST(`source_partition` AS STRING), 'UTF-8'),
    'tickflow.source.offset', ENCODE(CAST(`source_offset` AS STRING), 'UTF-8'),
    'tickflow.received.at', ENCODE(DATE_FORMAT(received_at, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''), 'UTF-8')
  ]
FROM tf_rejected;

INSERT INTO tf_trade_alerts
SELECT alert_id, kind, rule, severity, trade_id, ticker, price, volume, CAST(event_time AS TIMESTAMP(3)), threshold, amount, notional, baseline_mean, factor, lookback, reference_price, change_percent, window_seconds,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP(3)), message
FROM tf_alerts;

INSERT INTO tf_alerts_topic
SELECT alert_id, kind, rule, severity, trade_id, ticker, CAST(price AS STRING), volume, DATE_FORMAT(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
  threshold, CAST(amount AS STRING), CAST(notional AS STRING), CAST(baseline_mean AS STRING), CAST(factor AS DOUBLE), lookback, CAST(reference_price AS STRING), CAST(change_percent AS STRING), window_seconds, DATE_FORMAT(CURRENT_TIMESTAMP, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''), message
FROM tf_alerts;
END;
