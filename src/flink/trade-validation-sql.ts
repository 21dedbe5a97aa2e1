import { MAX_EVENT_TIME_MS, MAX_TRADE_ID_LENGTH, MAX_VOLUME } from '../trade/trade.ts';
import type { RejectCode } from '../trade/parse.ts';

/**
 * The trade parser (src/trade/parse.ts) restated as Flink SQL expressions over the raw record
 * bytes, so the Flink job refuses exactly what the embedded engine refuses, with the same
 * reason codes, in the same order of checks.
 *
 * Why everything is one expression over the raw column: the event-time attribute must be a
 * computed column of the source table (that is where Flink lets a watermark be declared), a
 * computed column cannot refer to another one, and the watermark must not move for rejected
 * records. So the event time is "the parsed timestamp if the whole record is valid, else a
 * sentinel before the epoch" — and that needs the whole validation, inlined.
 *
 * Flink 1.20 does not share common sub-expressions in generated code, so each reference to a
 * JSON field re-reads the JSON; the checks are written to keep those references few.
 */

const RAW = '`raw_value`';
/** The record as text. Java replaces malformed UTF-8 with U+FFFD, which the UTF-8 check detects. */
const TEXT = `DECODE(${RAW}, 'UTF-8')`;

/** JSON text of a field wrapped in an array: ["x"] for a string, [1.5] for a number, NULL if absent or null. */
const wrapped = (field: string): string => `JSON_QUERY(${TEXT}, '$.${field}' WITH UNCONDITIONAL ARRAY WRAPPER)`;
const stringValue = (field: string): string => `JSON_VALUE(${TEXT}, '$.${field}')`;
// Not `RETURNING DOUBLE`: in Flink 1.20 that throws ClassCastException at runtime when the JSON number is an integer.
const numberValue = (field: string): string => `TRY_CAST(JSON_VALUE(${TEXT}, '$.${field}') AS DOUBLE)`;
const isString = (wrappedJson: string): string => `REGEXP(${wrappedJson}, '^\\["')`;
const isNumber = (wrappedJson: string): string => `REGEXP(${wrappedJson}, '^\\[-?[0-9]')`;
const ok = (condition: string): string => `COALESCE(${condition}, FALSE)`;

/** Byte length from the base64 text: 3 bytes per 4 characters, less the padding. */
const BASE64 = `TO_BASE64(${RAW})`;
const BYTE_LENGTH = `(CHAR_LENGTH(${BASE64}) / 4 * 3 - (CHAR_LENGTH(${BASE64}) - CHAR_LENGTH(TRIM(TRAILING '=' FROM ${BASE64}))))`;

/** Jackson (behind IS JSON) accepts trailing garbage after a value ("{} x"); JSON.parse does not. */
const ENDS_LIKE_JSON = `REGEXP(${TEXT}, '[\\}\\]"0-9el][ \\t\\n\\r]*\\z')`;

/** Same as parseDecimalE4: digits, < 10^6 (leading zeros allowed), ≤ 4 decimals (trailing zeros up to 9 digits). */
const PRICE_TEXT = '^0*[0-9]{1,6}(\\.[0-9]{1,4}0{0,5})?\\z';
const TICKER = '^[A-Z0-9.\\-]{1,10}\\z';
const CONTROL = '[\\x00-\\x1F\\x7F]';

/**
 * parseIsoTimestamp as one regex: year ≥ 1970, real calendar days (leap years included),
 * 24-hour time, 1–9 fraction digits, zone Z | ±HH | ±HHMM | ±HH:MM with HH ≤ 18.
 */
const YEAR = '(?:19[7-9][0-9]|[2-9][0-9]{3})';
const MONTH_DAY = '(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)';
const LEAP_DAY = '(?:19(?:7[26]|8[048]|9[26])|[2-9][0-9](?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[3579][26])00)-02-29';
const TIME = '[Tt ](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:[.,][0-9]{1,9})?';
const ZONE = '(?:[Zz]|[+-](?:0[0-9]|1[0-8])(?::?[0-5][0-9])?)';
const ISO = `^(?:${YEAR}-${MONTH_DAY}|${LEAP_DAY})${TIME}${ZONE}\\z`;

// The parser's bound (the last candle window must end inside year 9999, which PostgreSQL stores).
const MAX_EPOCH_MS = MAX_EVENT_TIME_MS;

// trade_timestamp, or the seed's `timestamp` when trade_timestamp is absent or null.
const TS_WRAPPED = `COALESCE(${wrapped('trade_timestamp')}, ${wrapped('timestamp')})`;
const TS_TEXT = `JSON_VALUE(${TS_WRAPPED}, '$[0]')`;
const TS_NUMBER = `TRY_CAST(JSON_VALUE(${TS_WRAPPED}, '$[0]') AS DOUBLE)`;

/**
 * An ISO timestamp as TIMESTAMP_LTZ(3): the local part (fraction truncated to milliseconds, as
 * the embedded parser does) parsed as UTC, then shifted by the zone offset. Needs the session
 * time zone UTC ('table.local-time-zone'), which the compiled job sets.
 */
// Flink's REGEXP_REPLACE takes the replacement literally ($1 is not a group), hence REGEXP_EXTRACT.
const ISO_LOCAL = `TO_TIMESTAMP(CONCAT(REGEXP_REPLACE(SUBSTR(${TS_TEXT}, 1, 19), '[Tt]', ' '), '.', COALESCE(REGEXP_EXTRACT(${TS_TEXT}, '^.{19}[.,]([0-9]{1,3})', 1), '0')))`;
const ZONE_PARTS = '([+-])([0-9]{2}):?([0-9]{2})?\\z';
const OFFSET_MINUTES = `COALESCE(CASE WHEN REGEXP_EXTRACT(${TS_TEXT}, '${ZONE_PARTS}', 1) = '-' THEN -1 ELSE 1 END * (TRY_CAST(REGEXP_EXTRACT(${TS_TEXT}, '${ZONE_PARTS}', 2) AS INT) * 60 + COALESCE(TRY_CAST(REGEXP_EXTRACT(${TS_TEXT}, '${ZONE_PARTS}', 3) AS INT), 0)), 0)`;
const ISO_TIME = `CAST(TIMESTAMPADD(MINUTE, -${OFFSET_MINUTES}, ${ISO_LOCAL}) AS TIMESTAMP_LTZ(3))`;
const EPOCH_TIME = `TO_TIMESTAMP_LTZ(CAST(${TS_NUMBER} AS BIGINT), 3)`;

/** Before the epoch: no valid trade has it, and as a rowtime it never moves the watermark. */
export const REJECTED_TIME = 'TO_TIMESTAMP_LTZ(-1, 3)';
export const EPOCH_START = 'TO_TIMESTAMP_LTZ(0, 3)';

function priceOk(): string {
  const w = wrapped('price');
  const n = numberValue('price');
  return `CASE WHEN ${isString(w)} THEN REGEXP(${stringValue('price')}, '${PRICE_TEXT}') AND TRY_CAST(${stringValue('price')} AS DECIMAL(38, 9)) > 0
      WHEN ${isNumber(w)} THEN ${n} > 0 AND ${n} < 1000000 AND TRY_CAST(TRY_CAST(${n} AS DECIMAL(10, 4)) AS DOUBLE) = ${n}
      ELSE FALSE END`;
}

function volumeOk(): string {
  const n = numberValue('volume');
  return `${isNumber(wrapped('volume'))} AND ${n} = FLOOR(${n}) AND ${n} >= 1 AND ${n} <= ${MAX_VOLUME}`;
}

function timestampOk(): string {
  return `CASE WHEN ${isString(TS_WRAPPED)} THEN REGEXP(${TS_TEXT}, '${ISO}') AND ${ISO_TIME} BETWEEN ${EPOCH_START} AND TO_TIMESTAMP_LTZ(${MAX_EPOCH_MS}, 3)
      WHEN ${isNumber(TS_WRAPPED)} THEN ${TS_NUMBER} = FLOOR(${TS_NUMBER}) AND ${TS_NUMBER} >= 0 AND ${TS_NUMBER} <= ${MAX_EPOCH_MS}
      ELSE FALSE END`;
}

interface Check {
  code: RejectCode;
  /** TRUE when the record fails this check (earlier checks passed). */
  bad: string;
  /** For people; the embedded engine's reasons also quote the offending value, these name the rule. */
  reason: string;
}

/** The checks in parseTradeBytes/validateTrade order: the first failing one names the reason. */
function checks(maxRecordBytes: number): Check[] {
  const tradeId = stringValue('trade_id');
  const missing = (field: string, w = wrapped(field)): Check => ({ code: 'missing_field', bad: `${w} IS NULL`, reason: `${field} is missing` });
  return [
    { code: 'too_large', bad: `${BYTE_LENGTH} > ${maxRecordBytes}`, reason: `record exceeds ${maxRecordBytes} bytes` },
    { code: 'invalid_utf8', bad: `NOT ${ok(`ENCODE(${TEXT}, 'UTF-8') = ${RAW}`)}`, reason: 'record is not valid UTF-8' },
    { code: 'invalid_json', bad: `NOT ${ok(`${TEXT} IS JSON AND ${ENDS_LIKE_JSON}`)}`, reason: 'record is not JSON' },
    { code: 'not_an_object', bad: `NOT ${ok(`${TEXT} IS JSON OBJECT`)}`, reason: 'record is not a JSON object' },
    missing('trade_id'),
    {
      code: 'invalid_trade_id',
      bad: `NOT ${ok(`${isString(wrapped('trade_id'))} AND CHAR_LENGTH(${tradeId}) BETWEEN 1 AND ${MAX_TRADE_ID_LENGTH} AND NOT REGEXP(${tradeId}, '${CONTROL}')`)}`,
      reason: `trade_id must be a string of 1..${MAX_TRADE_ID_LENGTH} characters without control characters`,
    },
    missing('ticker'),
    {
      code: 'invalid_ticker',
      bad: `NOT ${ok(`${isString(wrapped('ticker'))} AND REGEXP(${stringValue('ticker')}, '${TICKER}')`)}`,
      reason: 'ticker must be 1-10 of A-Z 0-9 . -',
    },
    missing('price'),
    { code: 'invalid_price', bad: `NOT ${ok(priceOk())}`, reason: 'price must be a positive decimal string or number below 1,000,000 with at most 4 decimals' },
    missing('volume'),
    { code: 'invalid_volume', bad: `NOT ${ok(volumeOk())}`, reason: `volume must be an integer in 1..${MAX_VOLUME}` },
    missing('trade_timestamp', TS_WRAPPED),
    {
      code: 'invalid_timestamp',
      bad: `NOT ${ok(timestampOk())}`,
      reason: 'trade_timestamp must be ISO-8601 with a zone (1970 or later) or epoch milliseconds',
    },
  ];
}

/** The reject code of the record, or NULL for a valid trade. */
export function rejectCodeSql(maxRecordBytes: number): string {
  return `CASE\n${checks(maxRecordBytes)
    .map((c) => `    WHEN ${c.bad} THEN '${c.code}'`)
    .join('\n')}\n    ELSE CAST(NULL AS STRING) END`;
}

/** The reason text for a rejected record (NULL for a valid trade). */
export function rejectReasonSql(maxRecordBytes: number): string {
  return `CASE\n${checks(maxRecordBytes)
    .map((c) => `    WHEN ${c.bad} THEN '${c.reason.replace(/'/g, "''")}'`)
    .join('\n')}\n    ELSE CAST(NULL AS STRING) END`;
}

/** The event time of a valid trade, REJECTED_TIME for anything else (never NULL: it is the rowtime). */
export function eventTimeSql(maxRecordBytes: number): string {
  return `CASE WHEN (${rejectCodeSql(maxRecordBytes)}) IS NULL
    THEN CASE WHEN ${isString(TS_WRAPPED)} THEN ${ISO_TIME} ELSE ${EPOCH_TIME} END
    ELSE ${REJECTED_TIME} END`;
}

/** The parsed fields of a record known to be valid. */
export const FIELD_SQL = {
  tradeId: stringValue('trade_id'),
  ticker: stringValue('ticker'),
  price: `CASE WHEN ${isString(wrapped('price'))} THEN TRY_CAST(${stringValue('price')} AS DECIMAL(10, 4)) ELSE TRY_CAST(${numberValue('price')} AS DECIMAL(10, 4)) END`,
  volume: `CAST(${numberValue('volume')} AS INT)`,
} as const;
