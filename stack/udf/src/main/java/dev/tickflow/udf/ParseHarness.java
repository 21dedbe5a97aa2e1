package dev.tickflow.udf;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;

/**
 * The parser over stdin for the TypeScript conformance test (no Flink on the classpath):
 * records framed as a 4-byte big-endian length and the bytes, until EOF; one JSON object per
 * record on stdout. Usage: java -cp tickflow-udf.jar dev.tickflow.udf.ParseHarness MAX_BYTES
 */
public final class ParseHarness {
    private ParseHarness() {}

    public static void main(String[] args) throws IOException {
        int maxBytes = args.length > 0 ? Integer.parseInt(args[0]) : TradeParser.DEFAULT_MAX_BYTES;
        DataInputStream in = new DataInputStream(new BufferedInputStream(System.in, 1 << 16));
        OutputStream out = new BufferedOutputStream(System.out, 1 << 16);
        StringBuilder line = new StringBuilder(512);
        for (;;) {
            int length;
            try {
                length = in.readInt();
            } catch (EOFException end) {
                break;
            }
            byte[] record = new byte[length];
            in.readFully(record);
            // Through the memo, as the Flink functions call it.
            TradeParser.Result r = ParseMemo.parse(record, maxBytes);
            line.setLength(0);
            line.append("{\"code\":");
            string(line, r.code);
            line.append(",\"reason\":");
            string(line, r.reason);
            line.append(",\"trade_id\":");
            string(line, r.tradeId);
            line.append(",\"ticker\":");
            string(line, r.ticker);
            if (r.isValid()) {
                line.append(",\"price\":\"").append(java.math.BigDecimal.valueOf(r.priceE4, 4).toPlainString()).append('"');
                line.append(",\"volume\":").append(r.volume).append(",\"ts_ms\":").append(r.tsMs);
            } else if (r.isHeartbeat()) {
                line.append(",\"price\":null,\"volume\":null,\"ts_ms\":").append(r.tsMs);
            } else {
                line.append(",\"price\":null,\"volume\":null,\"ts_ms\":null");
            }
            line.append("}\n");
            // ASCII only (everything else is escaped), so the chars are the bytes.
            for (int i = 0; i < line.length(); i++) out.write(line.charAt(i));
        }
        out.flush();
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** A JSON string with everything outside printable ASCII escaped: a stray surrogate would show, not turn into '?'. */
    private static void string(StringBuilder out, String s) {
        if (s == null) {
            out.append("null");
            return;
        }
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c >= 0x20 && c < 0x7F) {
                out.append(c);
            } else {
                out.append("\\u").append(HEX[c >> 12]).append(HEX[(c >> 8) & 15]).append(HEX[(c >> 4) & 15]).append(HEX[c & 15]);
            }
        }
        out.append('"');
    }
}
