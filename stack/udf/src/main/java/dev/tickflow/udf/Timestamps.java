package dev.tickflow.udf;

/**
 * src/trade/timestamp.ts: a strict ISO-8601 reader. parseIso gives epoch milliseconds or a
 * negative code whose text why() gives.
 */
final class Timestamps {
    private Timestamps() {}

    private static final String[] WHY = {
        null,
        "is not ISO-8601 with a zone (e.g. 2026-11-25T06:01:02.123Z)",
        "is before 1970",
        "has an invalid month",
        "has an invalid day",
        "has an invalid time of day",
        "has an invalid fraction of a second",
        "has no valid zone (Z or ±HH:MM)",
        "has an invalid zone offset",
        "has no zone (add Z or ±HH:MM)",
        "is out of range",
    };
    private static final int NOT_ISO = -1, BEFORE_1970 = -2, BAD_MONTH = -3, BAD_DAY = -4, BAD_TIME = -5,
        BAD_FRACTION = -6, NO_VALID_ZONE = -7, BAD_OFFSET = -8, NO_ZONE = -9, OUT_OF_RANGE = -10;

    private static final int[] DAYS_IN_MONTH = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    private static final int[] DAYS_BEFORE_MONTH = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};

    static String why(int code) {
        return WHY[-code];
    }

    private static int digits(String s, int at, int n) {
        int v = 0;
        for (int i = at; i < at + n; i++) {
            int c = s.charAt(i) - '0';
            if (c < 0 || c > 9) return -1;
            v = v * 10 + c;
        }
        return v;
    }

    private static boolean isLeap(int y) {
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    }

    private static long daysFromCivil(int y, int m, int d) {
        long before = y - 1;
        long days = before * 365 + before / 4 - before / 100 + before / 400;
        int dayOfYear = DAYS_BEFORE_MONTH[m - 1] + (m > 2 && isLeap(y) ? 1 : 0) + d - 1;
        return days + dayOfYear - 719_162;
    }

    static long parseIso(String s) {
        int len = s.length();
        if (len < 20 || len > 40) return NOT_ISO;
        int year = digits(s, 0, 4);
        int month = digits(s, 5, 2);
        int day = digits(s, 8, 2);
        int hour = digits(s, 11, 2);
        int minute = digits(s, 14, 2);
        int second = digits(s, 17, 2);
        char sep = s.charAt(10);
        if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0
            || s.charAt(4) != '-' || s.charAt(7) != '-' || (sep != 'T' && sep != ' ' && sep != 't')
            || s.charAt(13) != ':' || s.charAt(16) != ':') {
            return NOT_ISO;
        }
        if (year < 1970) return BEFORE_1970;
        if (month < 1 || month > 12) return BAD_MONTH;
        int monthDays = month == 2 ? (isLeap(year) ? 29 : 28) : DAYS_IN_MONTH[month - 1];
        if (day < 1 || day > monthDays) return BAD_DAY;
        if (hour > 23 || minute > 59 || second > 59) return BAD_TIME;

        int i = 19;
        int millis = 0;
        char c19 = s.charAt(19);
        if (c19 == '.' || c19 == ',') {
            i++;
            int start = i;
            while (i < len) {
                int c = s.charAt(i) - '0';
                if (c < 0 || c > 9) break;
                if (i - start < 3) millis = millis * 10 + c; // beyond milliseconds: truncated
                i++;
            }
            int n = i - start;
            if (n == 0 || n > 9) return BAD_FRACTION;
            if (n == 1) millis *= 100;
            else if (n == 2) millis *= 10;
        }

        int offsetMin;
        char z = i < len ? s.charAt(i) : 0;
        if ((z == 'Z' || z == 'z') && i + 1 == len) {
            offsetMin = 0;
        } else if (z == '+' || z == '-') {
            int rest = len - i - 1;
            int oh;
            int om;
            if (rest == 5 && s.charAt(i + 3) == ':') {
                oh = digits(s, i + 1, 2);
                om = digits(s, i + 4, 2);
            } else if (rest == 4) {
                oh = digits(s, i + 1, 2);
                om = digits(s, i + 3, 2);
            } else if (rest == 2) {
                oh = digits(s, i + 1, 2);
                om = 0;
            } else {
                return NO_VALID_ZONE;
            }
            if (oh < 0 || om < 0 || oh > 18 || om > 59) return BAD_OFFSET;
            offsetMin = (oh * 60 + om) * (z == '-' ? -1 : 1);
        } else {
            return NO_ZONE;
        }

        long ms = daysFromCivil(year, month, day) * 86_400_000L + hour * 3_600_000L + minute * 60_000L + second * 1000L
            + millis - offsetMin * 60_000L;
        if (ms < 0 || ms > TradeParser.MAX_EVENT_TIME_MS) return OUT_OF_RANGE;
        return ms;
    }
}
