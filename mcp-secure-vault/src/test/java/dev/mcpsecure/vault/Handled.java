package dev.mcpsecure.vault;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Every token, secret and credential value the tests of this module handled, for
 * {@link NoSecretInLogsTest} to search the run's logs for.
 */
final class Handled {

    private static final ConcurrentLinkedQueue<String> VALUES = new ConcurrentLinkedQueue<>();

    private Handled() {}

    /** Remembers {@code value} and returns it. */
    static String value(String value) {
        if (value != null && value.length() >= 8) {
            VALUES.add(value);
        }
        return value;
    }

    static List<String> values() {
        return List.copyOf(new java.util.LinkedHashSet<>(VALUES));
    }
}
