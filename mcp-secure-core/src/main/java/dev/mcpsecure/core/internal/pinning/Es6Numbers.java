package dev.mcpsecure.core.internal.pinning;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * Formats a double the way ECMAScript's {@code Number.prototype.toString} does, which RFC 8785
 * (JCS) prescribes for numbers: the shortest decimal that reads back as the same double (the
 * closest of those, the even one on a tie), in plain notation for exponents -6 to 20 and
 * {@code d.ddde±x} otherwise; {@code -0} is {@code 0}.
 *
 * <p>Java 17's {@code Double.toString} is not always shortest, so the digits are found here with
 * exact decimal arithmetic. Thread-safe.
 */
final class Es6Numbers {

    private Es6Numbers() {}

    /**
     * The ES6 form of {@code value}.
     *
     * @throws IllegalArgumentException for NaN and infinities, which JSON cannot carry
     */
    static String format(double value) {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(value + " cannot be written in JSON");
        }
        if (value == 0) {
            return "0";
        }
        StringBuilder out = new StringBuilder(26);
        if (value < 0) {
            out.append('-');
            value = -value;
        }
        BigDecimal shortest = shortest(value).stripTrailingZeros();
        String digits = shortest.unscaledValue().toString();
        int k = digits.length();
        int n = k - shortest.scale();
        if (k <= n && n <= 21) {
            out.append(digits);
            out.append("0".repeat(n - k));
        } else if (0 < n && n <= 21) {
            out.append(digits, 0, n).append('.').append(digits, n, k);
        } else if (-6 < n && n <= 0) {
            out.append("0.").append("0".repeat(-n)).append(digits);
        } else {
            int exponent = n - 1;
            out.append(digits.charAt(0));
            if (k > 1) {
                out.append('.').append(digits, 1, k);
            }
            out.append('e').append(exponent < 0 ? '-' : '+').append(Math.abs(exponent));
        }
        return out.toString();
    }

    /**
     * The decimal with the fewest significant digits that reads back as {@code value} (positive,
     * finite); among those the closest to it, and the one with an even last digit on a tie.
     * Whether some p-digit decimal reads back is monotonic in p, so p is found by bisection.
     */
    private static BigDecimal shortest(double value) {
        BigDecimal exact = new BigDecimal(value);
        int low = 1;
        int high = 17; // 17 significant digits always read back
        BigDecimal best = candidate(exact, value, high);
        while (low < high) {
            int middle = (low + high) >>> 1;
            BigDecimal found = candidate(exact, value, middle);
            if (found != null) {
                best = found;
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        return best; // always the candidate for the current high
    }

    /** The best {@code digits}-digit decimal that reads back as {@code value}, or {@code null}. */
    private static BigDecimal candidate(BigDecimal exact, double value, int digits) {
        BigDecimal down = exact.round(new MathContext(digits, RoundingMode.FLOOR));
        BigDecimal up = exact.round(new MathContext(digits, RoundingMode.CEILING));
        boolean downReads = down.doubleValue() == value;
        boolean upReads = up.doubleValue() == value;
        if (downReads && upReads && down.compareTo(up) != 0) {
            int nearer = exact.subtract(down).compareTo(up.subtract(exact));
            if (nearer != 0) {
                return nearer < 0 ? down : up;
            }
            return down.unscaledValue().testBit(0) ? up : down;
        }
        if (downReads) {
            return down;
        }
        return upReads ? up : null;
    }
}
