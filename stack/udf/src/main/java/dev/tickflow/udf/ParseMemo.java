package dev.tickflow.udf;

import java.util.Arrays;

/**
 * The last parse of this thread. Flink 1.20's generated code calls a function once per
 * reference to its result, and the rowtime expression runs again in the watermark generator,
 * so one record reaches the parser several times in a row on one thread: every call after the
 * first costs an Arrays.equals. The bytes are copied because Flink may reuse its buffers.
 */
final class ParseMemo {
    private static final ThreadLocal<ParseMemo> LAST = ThreadLocal.withInitial(ParseMemo::new);
    private static final byte[] NONE = new byte[0];

    private byte[] bytes = new byte[256];
    private int length;
    private int maxBytes;
    private TradeParser.Result result;

    private ParseMemo() {}

    /** A null record is a Kafka tombstone: zero bytes. A null limit is parse.ts's default. */
    static TradeParser.Result parse(byte[] raw, Integer maxBytes) {
        byte[] record = raw == null ? NONE : raw;
        int max = maxBytes == null ? TradeParser.DEFAULT_MAX_BYTES : maxBytes;
        // Refused by size before anything is read: as cheap as the memo, and an oversized record is never copied.
        if (record.length > max) return TradeParser.parse(record, max);
        ParseMemo memo = LAST.get();
        if (memo.result != null && memo.maxBytes == max && Arrays.equals(memo.bytes, 0, memo.length, record, 0, record.length)) {
            return memo.result;
        }
        TradeParser.Result result = TradeParser.parse(record, max);
        if (memo.bytes.length < record.length) memo.bytes = new byte[Math.max(record.length, 2 * memo.bytes.length)];
        System.arraycopy(record, 0, memo.bytes, 0, record.length);
        memo.length = record.length;
        memo.maxBytes = max;
        memo.result = result;
        return result;
    }
}
