package dev.tickflow.udf;

/**
 * src/trade/decimal.ts: prices as exact integers of 1/10,000. A failure is a negative code;
 * its text is built only when a record is refused.
 */
final class Decimal {
    private Decimal() {}

    static final long EMPTY = -1, NOT_A_DECIMAL = -2, MORE_THAN_4_DECIMALS = -3, NOT_BELOW_A_MILLION = -4, NOT_POSITIVE = -5;

    private static final long[] POW10 = {1, 10, 100, 1_000, 10_000, 100_000, 1_000_000};

    /** parseDecimalE4: the e4 value of the text, or a failure code. */
    static long parseE4(String s) {
        int n = s.length();
        if (n == 0) return EMPTY;
        int i = 0;
        // A double, as in decimal.ts: hundreds of digits must saturate (to ≥ 10^6, even Infinity), not overflow.
        double whole = 0;
        int intDigits = 0;
        while (i < n) {
            int c = s.charAt(i) - '0';
            if (c < 0 || c > 9) break;
            whole = whole * 10 + c;
            intDigits++;
            i++;
        }
        long frac = 0;
        int fracDigits = 0;
        if (i < n && s.charAt(i) == '.') {
            i++;
            while (i < n) {
                int c = s.charAt(i) - '0';
                if (c < 0 || c > 9) break;
                frac = frac * 10 + c;
                fracDigits++;
                i++;
                // decimal.ts stops at 10 digits, so an 11th makes the text "not a decimal number".
                if (fracDigits > 9) break;
            }
            if (fracDigits == 0) return NOT_A_DECIMAL;
        }
        if (i != n || intDigits == 0) return NOT_A_DECIMAL;
        if (fracDigits > 4) {
            long divisor = POW10[fracDigits - 4];
            if (frac % divisor != 0) return MORE_THAN_4_DECIMALS;
            frac /= divisor;
            fracDigits = 4;
        }
        if (whole >= 1_000_000) return NOT_BELOW_A_MILLION;
        long e4 = (long) whole * 10_000 + frac * POW10[4 - fracDigits];
        if (e4 <= 0) return NOT_POSITIVE;
        return e4;
    }

    static String reason(long code, String s) {
        if (code == EMPTY) return "price is empty";
        String quoted = "price \"" + TradeParser.clip(s, 24) + "\" ";
        if (code == MORE_THAN_4_DECIMALS) return quoted + "has more than 4 decimals";
        if (code == NOT_BELOW_A_MILLION) return quoted + "is not below 1,000,000";
        if (code == NOT_POSITIVE) return quoted + "is not positive";
        return quoted + "is not a decimal number";
    }

    /**
     * parseNumberE4: the e4 value of a JSON number price, or -1 (numberReason says why). decimal.ts
     * reads String(x); that text has at most 4 decimals exactly when some m / 10^4 is x (two such
     * decimals are 10^-4 apart, far more than the width of a double's rounding interval below
     * 10^6), and then it is m. Any other text is refused, so only refusals need the formatter.
     */
    static long numberE4(double x) {
        if (!(x > 0 && x < 1_000_000)) return -1; // NaN, ±Infinity, ≤ 0, too large
        long m = Math.round(x * 10_000);
        return m > 0 && m / 10_000.0 == x ? m : -1;
    }

    static String numberReason(double x) {
        if (Double.isNaN(x) || Double.isInfinite(x)) return "price is not a finite number";
        if (x <= 0) return "price " + JsNumber.toString(x) + " is not positive";
        if (x >= 1_000_000) return "price " + JsNumber.toString(x) + " is not below 1,000,000";
        String text = JsNumber.toString(x);
        if (text.indexOf('e') >= 0) return "price " + text + " has more than 4 decimals";
        long e4 = parseE4(text);
        // Not reached for a valid price (numberE4 took those), but kept so the two can never disagree silently.
        return e4 < 0 ? reason(e4, text) : "price " + text + " was not read";
    }
}
