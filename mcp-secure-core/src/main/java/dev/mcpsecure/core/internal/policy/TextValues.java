package dev.mcpsecure.core.internal.policy;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The text forms a policy file writes durations, sizes and rates in. Each parser returns
 * {@code null} for text it does not accept; {@link #DURATION_FORMS} and friends say what it does.
 */
final class TextValues {

    static final String DURATION_FORMS = "write a number with a unit (500ms, 30s, 5m, 1h, 1d) or ISO-8601 (PT5M)";
    static final String SIZE_FORMS = "write a number of bytes or a number with KiB, MiB or GiB (64KiB, 10MiB)";
    static final String RATE_FORMS = "write calls/period, such as 60/1m or 10/1s";

    private static final Pattern SHORT_DURATION = Pattern.compile("([0-9]{1,9})(ms|s|m|h|d)");
    private static final Pattern SIZE = Pattern.compile("([0-9]{1,12}) ?(B|KiB|MiB|GiB)?");
    private static final Pattern DECIMAL_SIZE = Pattern.compile("[0-9]{1,12} ?([KMG]B|[kmg]b|[KMG])");
    private static final Pattern RATE = Pattern.compile("([0-9]{1,9}) ?/ ?(.+)");

    private TextValues() {}

    static Duration duration(String text) {
        Matcher short_ = SHORT_DURATION.matcher(text);
        if (short_.matches()) {
            long amount = Long.parseLong(short_.group(1));
            return switch (short_.group(2)) {
                case "ms" -> Duration.ofMillis(amount);
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                case "h" -> Duration.ofHours(amount);
                default -> Duration.ofDays(amount);
            };
        }
        if (text.startsWith("P") || text.startsWith("p")) {
            try {
                Duration parsed = Duration.parse(text);
                return parsed.isNegative() ? null : parsed;
            } catch (DateTimeParseException e) {
                return null;
            }
        }
        return null;
    }

    /** Bytes, or {@code null}. */
    static Long size(String text) {
        Matcher matcher = SIZE.matcher(text);
        if (!matcher.matches()) {
            return null;
        }
        long amount = Long.parseLong(matcher.group(1));
        String unit = matcher.group(2) == null ? "B" : matcher.group(2);
        int shift =
                switch (unit) {
                    case "KiB" -> 10;
                    case "MiB" -> 20;
                    case "GiB" -> 30;
                    default -> 0;
                };
        return amount > (Long.MAX_VALUE >> shift) ? null : amount << shift;
    }

    /** Why {@code text} is probably not a {@code what}, in parentheses; or "". */
    static String hint(String what, String text) {
        if (what.equals("duration") && text.matches("[0-9]+")) {
            return " (it has no unit: " + text + "s? " + text + "ms?)";
        }
        if (what.equals("size") && DECIMAL_SIZE.matcher(text).matches()) {
            return " (sizes are 1024-based: write KiB, MiB or GiB, such as 10MiB)";
        }
        return "";
    }

    /** Calls per period, or {@code null}. */
    static Rate rate(String text) {
        Matcher matcher = RATE.matcher(text.trim());
        if (!matcher.matches()) {
            return null;
        }
        Duration per = duration(matcher.group(2).trim());
        return per == null ? null : new Rate(Integer.parseInt(matcher.group(1)), per);
    }

    record Rate(int calls, Duration per) {}
}
