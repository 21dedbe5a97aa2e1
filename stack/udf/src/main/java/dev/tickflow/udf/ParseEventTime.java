package dev.tickflow.udf;

import java.time.Instant;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * {@code tickflow_event_time(raw_value, max_bytes)}: the rowtime column — a trade's or a
 * heartbeat's time (a heartbeat exists to move its partition's watermark). Never null (a rowtime
 * cannot be); a refused record gets 1969-12-31T23:59:59.999Z, below every valid event time,
 * so it can never move the watermark.
 */
public class ParseEventTime extends ScalarFunction {
    private static final long serialVersionUID = 1L;
    private static final Instant REFUSED = Instant.ofEpochMilli(-1);

    @DataTypeHint("TIMESTAMP_LTZ(3)")
    public Instant eval(byte[] raw, Integer maxBytes) {
        TradeParser.Result r = ParseMemo.parse(raw, maxBytes);
        return r.hasEventTime() ? Instant.ofEpochMilli(r.tsMs) : REFUSED;
    }
}
