package dev.tickflow.udf;

import java.nio.charset.StandardCharsets;

/**
 * src/trade/parse.ts in Java: the same verdict, reject code, reason text and fields for every
 * byte sequence (test/flink/parser-conformance.test.ts compares them record by record). The
 * TypeScript file is the reference; every check here runs in its order, with its texts.
 *
 * <p>What JSON.parse does is reproduced rather than delegated: a JSON library would differ on
 * duplicate keys, lone surrogate escapes, number rounding or nesting depth. Nesting is walked with
 * a bit stack, never recursion, because V8 accepts 100,000 nested arrays and so must we. Every
 * input becomes a Result; nothing here throws.
 */
public final class TradeParser {
    /** parse.ts DEFAULT_MAX_RECORD_BYTES. */
    public static final int DEFAULT_MAX_BYTES = 64 * 1024;

    static final int MAX_TRADE_ID_LENGTH = 255;
    static final double MAX_VOLUME = 2_147_483_647d;
    /** trade.ts MAX_EVENT_TIME_MS = Date.UTC(9999, 11, 31) - 1. */
    static final long MAX_EVENT_TIME_MS = 253_402_214_399_999L;

    /** The code of a heartbeat: a time-only record, never a trade nor a dead letter. */
    public static final String HEARTBEAT = "heartbeat";

    /**
     * A trade; a heartbeat (code {@link #HEARTBEAT} and tsMs, nothing else); or why the record
     * was refused (then code and reason are set and nothing else).
     */
    public static final class Result {
        public final String code;
        public final String reason;
        public final String tradeId;
        public final String ticker;
        public final long priceE4;
        public final int volume;
        public final long tsMs;

        private Result(String code, String reason, String tradeId, String ticker, long priceE4, int volume, long tsMs) {
            this.code = code;
            this.reason = reason;
            this.tradeId = tradeId;
            this.ticker = ticker;
            this.priceE4 = priceE4;
            this.volume = volume;
            this.tsMs = tsMs;
        }

        public boolean isValid() {
            return code == null;
        }

        public boolean isHeartbeat() {
            return code == HEARTBEAT;
        }

        /** Moves event time: a trade or a heartbeat. */
        public boolean hasEventTime() {
            return code == null || code == HEARTBEAT;
        }
    }

    public static Result parse(byte[] bytes, int maxBytes) {
        if (bytes.length > maxBytes) return reject("too_large", "record of " + bytes.length + " bytes exceeds " + maxBytes);
        if (!isUtf8(bytes)) return reject("invalid_utf8", "record is not valid UTF-8");
        // parseTradeText's `text.length > maxBytes` cannot fire here: a UTF-16 unit takes at least one byte.
        return new TradeParser(bytes).run();
    }

    // ---------------------------------------------------------------- UTF-8

    /** Node's isUtf8: WHATWG's decoder without replacement (no overlongs, surrogates, > U+10FFFF or cut sequences). */
    static boolean isUtf8(byte[] b) {
        int n = b.length;
        int i = 0;
        while (i < n) {
            int c = b[i] & 0xFF;
            if (c < 0x80) {
                i++;
                continue;
            }
            int need;
            int lo = 0x80;
            int hi = 0xBF;
            if (c >= 0xC2 && c <= 0xDF) {
                need = 1;
            } else if (c >= 0xE0 && c <= 0xEF) {
                need = 2;
                if (c == 0xE0) lo = 0xA0; // overlong
                else if (c == 0xED) hi = 0x9F; // UTF-16 surrogates
            } else if (c >= 0xF0 && c <= 0xF4) {
                need = 3;
                if (c == 0xF0) lo = 0x90; // overlong
                else if (c == 0xF4) hi = 0x8F; // above U+10FFFF
            } else {
                return false;
            }
            if (i + need >= n) return false; // cut short
            int d = b[i + 1] & 0xFF;
            if (d < lo || d > hi) return false;
            for (int k = 2; k <= need; k++) {
                int e = b[i + k] & 0xFF;
                if (e < 0x80 || e > 0xBF) return false;
            }
            i += need + 1;
        }
        return true;
    }

    // ---------------------------------------------------------------- JSON

    private static final int ABSENT = 0, STRING = 1, NUMBER = 2, TRUE = 3, FALSE = 4, NULL = 5, ARRAY = 6, OBJECT = 7;
    private static final int TRADE_ID = 0, TICKER = 1, PRICE = 2, VOLUME = 3, TRADE_TIMESTAMP = 4, TIMESTAMP = 5, HEARTBEAT_FIELD = 6;
    private static final String[] FIELD_NAMES = {"trade_id", "ticker", "price", "volume", "trade_timestamp", "timestamp", "heartbeat"};
    private static final byte[][] FIELD_BYTES = new byte[FIELD_NAMES.length][];

    static {
        for (int f = 0; f < FIELD_NAMES.length; f++) FIELD_BYTES[f] = FIELD_NAMES[f].getBytes(StandardCharsets.US_ASCII);
    }

    private final byte[] b;
    private final int n;
    private int pos;
    /** Kind, start and end (byte offsets of the value) of each field; a later duplicate key overwrites. */
    private final int[] fields = new int[3 * FIELD_NAMES.length];
    private boolean rootIsObject;
    /** The root object has a key other than "heartbeat" (JSON.parse's object then has more than that one member). */
    private boolean rootHasOtherKey;
    /** Set by skipString: the string had a backslash escape. */
    private boolean escaped;
    /** Container kinds of the open levels (bit set = object): the first 64 in a long, the rest grown on demand. */
    private long shallowLevels;
    private long[] deepLevels;

    private TradeParser(byte[] bytes) {
        this.b = bytes;
        this.n = bytes.length;
    }

    private int peek() {
        return pos < n ? b[pos] & 0xFF : -1;
    }

    private void skipWhitespace() {
        while (pos < n) {
            byte c = b[pos];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
            pos++;
        }
    }

    private Result run() {
        if (!document()) {
            for (byte c : b) {
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return INVALID_JSON;
            }
            return EMPTY_JSON;
        }
        if (!rootIsObject) return NOT_AN_OBJECT;
        Result heartbeat = heartbeat();
        return heartbeat != null ? heartbeat : validate();
    }

    /** The whole text is one JSON value with optional whitespace around it; the root object's fields are noted. */
    private boolean document() {
        skipWhitespace();
        if (peek() == '{') {
            rootIsObject = true;
            pos++;
            skipWhitespace();
            if (peek() == '}') {
                pos++;
            } else {
                for (;;) {
                    if (peek() != '"') return false;
                    int keyStart = pos + 1;
                    if (!skipString()) return false;
                    int field = fieldOf(keyStart, pos - 1);
                    if (field != HEARTBEAT_FIELD) rootHasOtherKey = true;
                    skipWhitespace();
                    if (peek() != ':') return false;
                    pos++;
                    skipWhitespace();
                    int valueStart = pos;
                    int kind = kindOf(peek());
                    if (!skipValue()) return false;
                    if (field >= 0) {
                        fields[3 * field] = kind;
                        fields[3 * field + 1] = valueStart;
                        fields[3 * field + 2] = pos;
                    }
                    skipWhitespace();
                    int c = peek();
                    if (c == '}') {
                        pos++;
                        break;
                    }
                    if (c != ',') return false;
                    pos++;
                    skipWhitespace();
                }
            }
        } else if (!skipValue()) {
            return false;
        }
        skipWhitespace();
        return pos == n;
    }

    private static int kindOf(int c) {
        switch (c) {
            case '"': return STRING;
            case '{': return OBJECT;
            case '[': return ARRAY;
            case 't': return TRUE;
            case 'f': return FALSE;
            case 'n': return NULL;
            default: return NUMBER; // or invalid, which skipValue finds
        }
    }

    /** Which of our fields the key between start and end (the raw string body) names, or -1. */
    private int fieldOf(int start, int end) {
        if (escaped) {
            // "trade\u005fid" is the key trade_id to JSON.parse.
            String key = decodeString(start, end);
            for (int f = 0; f < FIELD_NAMES.length; f++) if (FIELD_NAMES[f].equals(key)) return f;
            return -1;
        }
        int len = end - start;
        for (int f = 0; f < FIELD_BYTES.length; f++) {
            byte[] name = FIELD_BYTES[f];
            if (name.length != len) continue;
            int k = 0;
            while (k < len && b[start + k] == name[k]) k++;
            if (k == len) return f;
        }
        return -1;
    }

    private boolean isObjectLevel(int level) {
        if (level < 64) return (shallowLevels & (1L << level)) != 0;
        return (deepLevels[(level - 64) >>> 6] & (1L << (level & 63))) != 0;
    }

    private void setLevel(int level, boolean object) {
        if (level < 64) {
            shallowLevels = object ? shallowLevels | (1L << level) : shallowLevels & ~(1L << level);
            return;
        }
        int word = (level - 64) >>> 6;
        if (deepLevels == null) deepLevels = new long[16];
        if (word >= deepLevels.length) deepLevels = java.util.Arrays.copyOf(deepLevels, Math.max(word + 1, deepLevels.length * 2));
        long bit = 1L << (level & 63);
        deepLevels[word] = object ? deepLevels[word] | bit : deepLevels[word] & ~bit;
    }

    /** One JSON value at pos (whitespace before it already skipped), nested values included, iteratively. */
    private boolean skipValue() {
        int depth = 0;
        for (;;) {
            int c = peek();
            switch (c) {
                case '{':
                    pos++;
                    skipWhitespace();
                    if (peek() == '}') {
                        pos++;
                        break;
                    }
                    setLevel(depth++, true);
                    if (!memberName()) return false;
                    continue;
                case '[':
                    pos++;
                    skipWhitespace();
                    if (peek() == ']') {
                        pos++;
                        break;
                    }
                    setLevel(depth++, false);
                    continue;
                case '"':
                    if (!skipString()) return false;
                    break;
                case 't':
                    if (!literal("true")) return false;
                    break;
                case 'f':
                    if (!literal("false")) return false;
                    break;
                case 'n':
                    if (!literal("null")) return false;
                    break;
                default:
                    if (!skipNumber()) return false;
                    break;
            }
            // A value ended: close what it ends, or move on to the next element.
            for (;;) {
                if (depth == 0) return true;
                skipWhitespace();
                int d = peek();
                boolean object = isObjectLevel(depth - 1);
                if (d == (object ? '}' : ']')) {
                    pos++;
                    depth--;
                    continue;
                }
                if (d != ',') return false;
                pos++;
                skipWhitespace();
                if (object && !memberName()) return false;
                break;
            }
        }
    }

    /** `"name" :` and the whitespace after it, inside a nested object. */
    private boolean memberName() {
        if (peek() != '"' || !skipString()) return false;
        skipWhitespace();
        if (peek() != ':') return false;
        pos++;
        skipWhitespace();
        return true;
    }

    private boolean literal(String word) {
        int len = word.length();
        if (n - pos < len) return false;
        for (int k = 0; k < len; k++) if (b[pos + k] != word.charAt(k)) return false;
        pos += len;
        return true;
    }

    private static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    /** -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? — what follows is the caller's to judge. */
    private boolean skipNumber() {
        if (peek() == '-') pos++;
        int c = peek();
        if (c == '0') {
            pos++;
        } else if (c >= '1' && c <= '9') {
            while (isDigit(peek())) pos++;
        } else {
            return false;
        }
        if (peek() == '.') {
            pos++;
            if (!isDigit(peek())) return false;
            while (isDigit(peek())) pos++;
        }
        c = peek();
        if (c == 'e' || c == 'E') {
            pos++;
            c = peek();
            if (c == '+' || c == '-') pos++;
            if (!isDigit(peek())) return false;
            while (isDigit(peek())) pos++;
        }
        return true;
    }

    private static int hexValue(int c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    /** A string at pos (the opening quote). The bytes are valid UTF-8 already, so only ASCII matters here. */
    private boolean skipString() {
        pos++;
        escaped = false;
        while (pos < n) {
            int c = b[pos] & 0xFF;
            if (c == '"') {
                pos++;
                return true;
            }
            if (c < 0x20) return false;
            if (c != '\\') {
                pos++;
                continue;
            }
            escaped = true;
            if (pos + 1 >= n) return false;
            switch (b[pos + 1]) {
                case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                    pos += 2;
                    break;
                case 'u':
                    if (pos + 5 >= n) return false;
                    for (int k = 2; k <= 5; k++) if (hexValue(b[pos + k]) < 0) return false;
                    pos += 6;
                    break;
                default:
                    return false;
            }
        }
        return false;
    }

    /** The JS string of a validated string body: UTF-16 units, lone surrogates from escapes kept as JSON.parse keeps them. */
    private String decodeString(int start, int end) {
        char[] out = new char[end - start]; // never more units than bytes: an escape is 2-6 bytes, a pair 4
        int k = 0;
        int i = start;
        while (i < end) {
            int c = b[i] & 0xFF;
            if (c == '\\') {
                int e = b[i + 1];
                char ch;
                switch (e) {
                    case 'b': ch = '\b'; break;
                    case 'f': ch = '\f'; break;
                    case 'n': ch = '\n'; break;
                    case 'r': ch = '\r'; break;
                    case 't': ch = '\t'; break;
                    case 'u':
                        ch = (char) ((hexValue(b[i + 2]) << 12) | (hexValue(b[i + 3]) << 8) | (hexValue(b[i + 4]) << 4) | hexValue(b[i + 5]));
                        i += 4;
                        break;
                    default: ch = (char) e; // " \ /
                }
                out[k++] = ch;
                i += 2;
            } else if (c < 0x80) {
                out[k++] = (char) c;
                i++;
            } else if (c < 0xE0) {
                out[k++] = (char) (((c & 0x1F) << 6) | (b[i + 1] & 0x3F));
                i += 2;
            } else if (c < 0xF0) {
                out[k++] = (char) (((c & 0x0F) << 12) | ((b[i + 1] & 0x3F) << 6) | (b[i + 2] & 0x3F));
                i += 3;
            } else {
                int cp = ((c & 0x07) << 18) | ((b[i + 1] & 0x3F) << 12) | ((b[i + 2] & 0x3F) << 6) | (b[i + 3] & 0x3F);
                out[k++] = Character.highSurrogate(cp);
                out[k++] = Character.lowSurrogate(cp);
                i += 4;
            }
        }
        return new String(out, 0, k);
    }

    private int kind(int field) {
        return fields[3 * field];
    }

    private String string(int field) {
        return decodeString(fields[3 * field + 1] + 1, fields[3 * field + 2] - 1);
    }

    /** Double.parseDouble rounds the JSON number text to the nearest double, as V8 does (1e999 → Infinity). */
    private double number(int field) {
        int start = fields[3 * field + 1];
        return Double.parseDouble(new String(b, start, fields[3 * field + 2] - start, StandardCharsets.ISO_8859_1));
    }

    // ---------------------------------------------------------------- validateTrade

    private static final Result INVALID_JSON = reject("invalid_json", "record is not valid JSON");
    private static final Result EMPTY_JSON = reject("invalid_json", "record is empty");
    private static final Result NOT_AN_OBJECT = reject("not_an_object", "record is not a JSON object");
    private static final Result TRADE_ID_MISSING = reject("missing_field", "trade_id is missing");
    private static final Result TRADE_ID_LENGTH = reject("invalid_trade_id", "trade_id must be a string of 1.." + MAX_TRADE_ID_LENGTH + " characters");
    private static final Result TRADE_ID_CONTROL = reject("invalid_trade_id", "trade_id contains control characters");
    private static final Result TRADE_ID_SURROGATE = reject("invalid_trade_id", "trade_id contains a lone surrogate");
    private static final Result TICKER_MISSING = reject("missing_field", "ticker is missing");
    private static final Result TICKER_NOT_STRING = reject("invalid_ticker", "ticker is not a string and must be 1-10 of A-Z 0-9 . -");
    private static final Result PRICE_MISSING = reject("missing_field", "price is missing");
    private static final Result PRICE_TYPE = reject("invalid_price", "price must be a decimal string or a number");
    private static final Result VOLUME_MISSING = reject("missing_field", "volume is missing");
    private static final Result VOLUME_INVALID = reject("invalid_volume", "volume must be an integer in 1..2147483647");
    private static final Result TIMESTAMP_MISSING = reject("missing_field", "trade_timestamp is missing");
    private static final Result TIMESTAMP_TYPE = reject("invalid_timestamp", "trade_timestamp must be an ISO-8601 string or epoch milliseconds");

    /**
     * {"heartbeat": "<a timestamp valid as trade_timestamp>"} and nothing else: event time only.
     * Any other record with that key is an ordinary record (null here), refused by validate().
     */
    private Result heartbeat() {
        if (rootHasOtherKey || kind(HEARTBEAT_FIELD) != STRING) return null;
        long ms = Timestamps.parseIso(string(HEARTBEAT_FIELD));
        return ms < 0 ? null : new Result(HEARTBEAT, null, null, null, 0, 0, ms);
    }

    private Result validate() {
        int k = kind(TRADE_ID);
        if (k == ABSENT || k == NULL) return TRADE_ID_MISSING;
        if (k != STRING) return TRADE_ID_LENGTH;
        String tradeId = string(TRADE_ID);
        int len = tradeId.length();
        // Characters as VARCHAR(255) counts them; String.codePointCount counts a lone surrogate as one, as parse.ts does.
        if (len == 0 || (len > MAX_TRADE_ID_LENGTH && (len > 2 * MAX_TRADE_ID_LENGTH || tradeId.codePointCount(0, len) > MAX_TRADE_ID_LENGTH))) {
            return TRADE_ID_LENGTH;
        }
        if (hasControlChar(tradeId)) return TRADE_ID_CONTROL;
        if (hasLoneSurrogate(tradeId)) return TRADE_ID_SURROGATE;

        k = kind(TICKER);
        if (k == ABSENT || k == NULL) return TICKER_MISSING;
        if (k != STRING) return TICKER_NOT_STRING;
        String ticker = string(TICKER);
        if (!isTicker(ticker)) return reject("invalid_ticker", "ticker \"" + clip(ticker, 40) + "\" must be 1-10 of A-Z 0-9 . -");

        k = kind(PRICE);
        if (k == ABSENT || k == NULL) return PRICE_MISSING;
        long priceE4;
        if (k == STRING) {
            String text = string(PRICE);
            priceE4 = Decimal.parseE4(text);
            if (priceE4 < 0) return reject("invalid_price", Decimal.reason(priceE4, text));
        } else if (k == NUMBER) {
            double x = number(PRICE);
            priceE4 = Decimal.numberE4(x);
            if (priceE4 < 0) return reject("invalid_price", Decimal.numberReason(x));
        } else {
            return PRICE_TYPE;
        }

        k = kind(VOLUME);
        if (k == ABSENT || k == NULL) return VOLUME_MISSING;
        if (k != NUMBER) return VOLUME_INVALID;
        double volume = number(VOLUME);
        if (!isInteger(volume) || volume < 1 || volume > MAX_VOLUME) return VOLUME_INVALID;

        // ts = o.trade_timestamp ?? o.timestamp
        int tsField = kind(TRADE_TIMESTAMP) == ABSENT || kind(TRADE_TIMESTAMP) == NULL ? TIMESTAMP : TRADE_TIMESTAMP;
        k = kind(tsField);
        if (k == ABSENT || k == NULL) return TIMESTAMP_MISSING;
        long tsMs;
        String tsReason;
        if (k == STRING) {
            String s = string(tsField);
            tsMs = Timestamps.parseIso(s);
            tsReason = tsMs < 0 ? "timestamp \"" + clip(s, 40) + "\" " + Timestamps.why((int) tsMs) : null;
        } else if (k == NUMBER) {
            double t = number(tsField);
            if (!isInteger(t)) {
                tsMs = -1;
                tsReason = "timestamp " + JsNumber.toString(t) + " is not an integer number of epoch milliseconds";
            } else if (t < 0 || t > MAX_EVENT_TIME_MS) {
                tsMs = -1;
                tsReason = "timestamp " + JsNumber.toString(t) + " is out of range";
            } else {
                tsMs = (long) t; // -0 too: it passes parse.ts's checks and is epoch 0
                tsReason = null;
            }
        } else {
            return TIMESTAMP_TYPE;
        }
        if (tsReason != null) return reject("invalid_timestamp", tsReason);

        return new Result(null, null, tradeId, ticker, priceE4, (int) volume, tsMs);
    }

    /** Number.isInteger. */
    static boolean isInteger(double x) {
        return !Double.isInfinite(x) && !Double.isNaN(x) && Math.floor(x) == x;
    }

    /** /^[A-Z0-9.-]{1,10}$/ */
    private static boolean isTicker(String s) {
        int len = s.length();
        if (len < 1 || len > 10) return false;
        for (int i = 0; i < len; i++) {
            char c = s.charAt(i);
            if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return false;
        }
        return true;
    }

    private static boolean isControl(char c) {
        return c < 0x20 || c == 0x7F;
    }

    private static boolean hasControlChar(String s) {
        for (int i = 0; i < s.length(); i++) if (isControl(s.charAt(i))) return true;
        return false;
    }

    /** !String.prototype.isWellFormed */
    private static boolean hasLoneSurrogate(String s) {
        int len = s.length();
        for (int i = 0; i < len; i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < len && Character.isLowSurrogate(s.charAt(i + 1))) i++;
            else if (Character.isSurrogate(c)) return true;
        }
        return false;
    }

    /** timestamp.ts clip and decimal.ts short: cut at a UTF-16 unit (maybe through a pair; reject() mends that). */
    static String clip(String s, int max) {
        return s.length() > max ? s.substring(0, max) + "…" : s;
    }

    /**
     * parse.ts reject(): control characters become \\uXXXX escapes (lower-case hex), then lone
     * surrogates become U+FFFD (toWellFormed). Escapes are ASCII, so one pass does both.
     */
    static Result reject(String code, String reason) {
        return new Result(code, printable(reason), null, null, 0, 0, 0);
    }

    static String printable(String reason) {
        int len = reason.length();
        int i = 0;
        while (i < len) {
            char c = reason.charAt(i);
            if (isControl(c)) break;
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < len && Character.isLowSurrogate(reason.charAt(i + 1))) {
                    i += 2;
                    continue;
                }
                break;
            }
            i++;
        }
        if (i == len) return reason;
        StringBuilder out = new StringBuilder(len + 16).append(reason, 0, i);
        for (; i < len; i++) {
            char c = reason.charAt(i);
            if (isControl(c)) {
                out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 15]);
            } else if (Character.isHighSurrogate(c) && i + 1 < len && Character.isLowSurrogate(reason.charAt(i + 1))) {
                out.append(c).append(reason.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                out.append('\uFFFD');
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();
}
