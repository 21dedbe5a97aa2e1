package dev.tickflow.udf;

import java.math.BigDecimal;
import java.time.Instant;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.types.Row;

/**
 * {@code tickflow_parse(raw_value, max_bytes)}: a Kafka record's bytes → the trade or the reason
 * it is refused, as src/trade/parse.ts decides. On a refusal only reason_code and reason are set;
 * a heartbeat has reason_code 'heartbeat' and its event_time, nothing else (the job drops it
 * after the watermark is assigned).
 */
public class ParseTrade extends ScalarFunction {
    private static final long serialVersionUID = 1L;

    @DataTypeHint("ROW<reason_code STRING, reason STRING, trade_id STRING, ticker STRING, price DECIMAL(10, 4), volume INT, event_time TIMESTAMP_LTZ(3)>")
    public Row eval(byte[] raw, Integer maxBytes) {
        TradeParser.Result r = ParseMemo.parse(raw, maxBytes);
        if (r.isHeartbeat()) return Row.of(r.code, null, null, null, null, null, Instant.ofEpochMilli(r.tsMs));
        if (!r.isValid()) return Row.of(r.code, r.reason, null, null, null, null, null);
        return Row.of(null, null, r.tradeId, r.ticker, BigDecimal.valueOf(r.priceE4, 4), r.volume, Instant.ofEpochMilli(r.tsMs));
    }
}
