package dev.mcpsecure.api;

import java.time.Duration;

/** Human-readable forms of durations and byte sizes, as a policy file writes them. */
final class Units {

    private Units() {}

    /** {@code 5m}, {@code 30s}, {@code 1h}, {@code 250ms}: the largest unit that divides evenly. */
    static String duration(Duration value) {
        long millis = value.toMillis();
        if (millis == 0 || !value.equals(Duration.ofMillis(millis))) {
            return value.toString();
        }
        if (millis % 86_400_000 == 0) {
            return millis / 86_400_000 + "d";
        }
        if (millis % 3_600_000 == 0) {
            return millis / 3_600_000 + "h";
        }
        if (millis % 60_000 == 0) {
            return millis / 60_000 + "m";
        }
        if (millis % 1_000 == 0) {
            return millis / 1_000 + "s";
        }
        return millis + "ms";
    }

    /** {@code 64KiB}, {@code 10MiB}, {@code 1GiB}, or plain bytes: the largest unit that divides evenly. */
    static String size(long bytes) {
        if (bytes != 0 && bytes % (1L << 30) == 0) {
            return bytes / (1L << 30) + "GiB";
        }
        if (bytes != 0 && bytes % (1L << 20) == 0) {
            return bytes / (1L << 20) + "MiB";
        }
        if (bytes != 0 && bytes % (1L << 10) == 0) {
            return bytes / (1L << 10) + "KiB";
        }
        return bytes + " bytes";
    }
}
