import type { PipelineSpec } from '../../spec/spec.ts';
import { UDF_CLASSES } from '../../stack/udf.ts';
import type { FlinkTarget } from '../compile-spec.ts';
import { ident, intervalMs, str, withOptions } from '../sql-text.ts';
import { VIEW, type SqlFragment } from './views.ts';

/** The parser function's reason_code for a heartbeat (stack/udf TradeParser.HEARTBEAT). */
export const HEARTBEAT_CODE = 'heartbeat';

/** A duration option value ("5000ms"); at least 1 ms (the option refuses zero). */
function intervalText(ms: number): string {
  return `${Math.max(1, ms)}ms`;
}

/** The parser function's registrations, run in the session before any table refers to them. */
export function parserFunctions(): string[] {
  return Object.entries(UDF_CLASSES).map(([name, cls]) => `CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS ${name} AS ${str(cls)} LANGUAGE JAVA`);
}

/**
 * The Kafka source and the parse: raw bytes in (so a malformed record is routed to the dead
 * letters, never skipped), each record parsed by the Java twin of src/trade/parse.ts.
 *
 * The rowtime must be a computed column of the source (that is where Flink lets a watermark be
 * declared) and must not move for rejected records, so `tickflow_event_time` gives rejected
 * records a time before the epoch. Flink 1.20 evaluates a function once per reference (and the
 * rowtime again in the watermark generator); the function memoises the last record per thread,
 * so each record is parsed once however often it is referenced.
 *
 * A heartbeat (reason_code 'heartbeat': a time-only record, written to an idle partition by
 * `tickflow heartbeat`) has a rowtime, so it moves its partition's watermark and makes an idle
 * split active again; it is in neither tf_valid nor tf_rejected, so no operator or sink sees it.
 */
export function sourceAndParse(spec: PipelineSpec, target: FlinkTarget): SqlFragment {
  const maxBytes = spec.input.maxRecordBytes;
  const raw = ident('raw_value');
  const position = `${ident('source_topic')}, ${ident('source_partition')}, ${ident('source_offset')}`;
  const ddl = [
    `CREATE TEMPORARY TABLE ${VIEW.source} (
  ${raw} BYTES,
  ${ident('source_topic')} STRING METADATA FROM 'topic' VIRTUAL,
  ${ident('source_partition')} INT METADATA FROM 'partition' VIRTUAL,
  ${ident('source_offset')} BIGINT METADATA FROM 'offset' VIRTUAL,
  proc_time AS PROCTIME(),
  event_time AS tickflow_event_time(${raw}, ${maxBytes}),
  WATERMARK FOR event_time AS event_time - ${intervalMs(spec.input.outOfOrdernessMs)}
) ${withOptions({
      connector: 'kafka',
      topic: spec.input.topic,
      'properties.bootstrap.servers': target.kafkaBootstrap,
      'properties.group.id': target.groupId,
      // First start: from the beginning; later starts (--replace): from the offsets committed on checkpoints.
      'scan.startup.mode': 'group-offsets',
      'properties.auto.offset.reset': 'earliest',
      'value.format': 'raw',
      // Partitions read far apart in event time (a backlog, a subtask with two partitions) make
      // the spike rule's sorter hold every row above the slowest one's watermark, and it re-reads
      // all it holds at each watermark: a partition more than the out-of-orderness bound ahead of
      // the slowest waits. Order of reading only; no result depends on it.
      'scan.watermark.alignment.group': 'tickflow',
      'scan.watermark.alignment.max-drift': intervalText(spec.input.outOfOrdernessMs),
      'scan.watermark.alignment.update-interval': '100ms',
    })}`,
    // `late` is judged here, next to the source, against the watermark the record meets on
    // arrival (docs/flink.md), before any shuffle.
    `CREATE TEMPORARY VIEW ${VIEW.records} AS
SELECT ${raw}, ${position}, proc_time, event_time,
  tickflow_parse(${raw}, ${maxBytes}) AS parsed,
  COALESCE(event_time < CURRENT_WATERMARK(event_time), FALSE) AS is_late
FROM ${VIEW.source}`,
    `CREATE TEMPORARY VIEW ${VIEW.valid} AS
SELECT r.parsed.trade_id AS trade_id, r.parsed.ticker AS ticker, r.parsed.price AS price, r.parsed.volume AS volume,
  event_time, proc_time, ${ident('source_offset')} AS source_offset, is_late
FROM ${VIEW.records} AS r WHERE r.parsed.reason_code IS NULL`,
    `CREATE TEMPORARY VIEW ${VIEW.rejected} AS
SELECT ${raw}, ${position}, r.parsed.reason_code AS reason_code, r.parsed.reason AS reason,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP(3)) AS received_at
FROM ${VIEW.records} AS r WHERE r.parsed.reason_code IS NOT NULL AND r.parsed.reason_code <> ${str(HEARTBEAT_CODE)}`,
  ];
  return { ddl, inserts: [] };
}
