package dev.tickflow.udf;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * JavaScript's {@code String(x)} for a double (Number::toString, radix 10), because reject
 * reasons print numbers the way the TypeScript parser does. JDK 17's Double.toString is not
 * shortest for every double and lays numbers out differently, so neither is usable.
 */
final class JsNumber {
    private JsNumber() {}

    private static final long[] POW10 = new long[19];

    static {
        POW10[0] = 1;
        for (int i = 1; i < POW10.length; i++) POW10[i] = POW10[i - 1] * 10;
    }

    private static final MathContext TRUNCATE_18 = new MathContext(18, RoundingMode.DOWN);

    static String toString(double x) {
        if (Double.isNaN(x)) return "NaN";
        if (x == Double.POSITIVE_INFINITY) return "Infinity";
        if (x == Double.NEGATIVE_INFINITY) return "-Infinity";
        if (x == 0) return "0"; // -0 too
        // Below 2^53 every integer is a double, so no shorter digit string can round to this one.
        if (Math.abs(x) < 0x1p53 && x == Math.rint(x)) return Long.toString((long) x);

        double a = Math.abs(x);
        // The leading 18 digits of the exact binary value, truncated, and whether anything nonzero was cut:
        // enough to round to any p <= 17 digits exactly as rounding the full value would.
        BigDecimal exact = new BigDecimal(a);
        BigDecimal head = exact.round(TRUNCATE_18);
        boolean sticky = head.compareTo(exact) != 0;
        long top = head.unscaledValue().longValueExact();
        int topExp = -head.scale(); // exact ≈ top × 10^topExp
        int topDigits = digitCount(top);
        top *= POW10[18 - topDigits];
        topExp -= 18 - topDigits;

        // If some p-digit decimal parses back to x, so does a (p+1)-digit one (the same with a zero
        // appended): the shortest p can be found by bisection. 17 digits always suffice.
        int lo = 1;
        int hi = 17;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (digits(top, topExp, sticky, mid, a) > 0) hi = mid;
            else lo = mid + 1;
        }
        long digits = digits(top, topExp, sticky, lo, a);
        return layout(x < 0, digits, topExp + 18 - lo);
    }

    /**
     * The p-digit decimal (digits × 10^(topExp + 18 - p)) closest to x that parses back to x, or -1.
     * Only two can: the nearest one, or the nearest on the other side of x, which wins where the gap
     * below x (a power of two) is half the gap above. When both do, the nearest, as V8 picks.
     */
    private static long digits(long top, int topExp, boolean sticky, int p, double x) {
        long div = POW10[18 - p];
        long q = top / div; // exactly p digits: top has 18
        long r = top % div;
        long half = div / 2;
        boolean up = r > half || (r == half && (sticky || (q & 1) == 1));
        int exp = topExp + 18 - p;
        long nearest = up ? q + 1 : q;
        if (roundTrips(nearest, exp, x)) return nearest;
        long other = up ? q : q + 1;
        return roundTrips(other, exp, x) ? other : -1;
    }

    private static int digitCount(long v) {
        int n = 1;
        while (n < 19 && v >= POW10[n]) n++;
        return n;
    }

    private static boolean roundTrips(long digits, int exp, double x) {
        return Double.parseDouble(digits + "E" + exp) == x;
    }

    /** ECMA-262 Number::toString layout for digits × 10^exp (digits > 0). */
    private static String layout(boolean negative, long digits, int exp) {
        while (digits % 10 == 0) {
            digits /= 10;
            exp++;
        }
        String s = Long.toString(digits);
        int k = s.length();
        int n = k + exp; // the decimal point sits after n digits
        StringBuilder out = new StringBuilder(k + 24);
        if (negative) out.append('-');
        if (k <= n && n <= 21) {
            out.append(s);
            for (int i = k; i < n; i++) out.append('0');
        } else if (0 < n && n <= 21) {
            out.append(s, 0, n).append('.').append(s, n, k);
        } else if (-6 < n && n <= 0) {
            out.append("0.");
            for (int i = n; i < 0; i++) out.append('0');
            out.append(s);
        } else {
            out.append(s.charAt(0));
            if (k > 1) out.append('.').append(s, 1, k);
            int e = n - 1;
            out.append('e').append(e < 0 ? '-' : '+').append(Math.abs(e));
        }
        return out.toString();
    }
}
