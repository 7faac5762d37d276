package dev.mcpsecure.vault.internal;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with jitter: the n-th consecutive failure waits a random time between half
 * and all of {@code min * 2^(n-1)}, capped at {@code max}. Not thread-safe; one per retry loop.
 */
public final class Backoff {

    private final Duration min;
    private final Duration max;
    private int failures;

    /** Backoff from {@code min} doubling up to {@code max}. */
    public Backoff(Duration min, Duration max) {
        if (min.isNegative() || min.isZero() || max.compareTo(min) < 0) {
            throw new IllegalArgumentException("backoff needs 0 < min <= max, got " + min + " and " + max);
        }
        this.min = min;
        this.max = max;
    }

    /** Records a failure and returns how long to wait before the next attempt. */
    public Duration next() {
        failures = Math.min(failures + 1, 40);
        long ceiling = min.toMillis();
        for (int i = 1; i < failures && ceiling < max.toMillis(); i++) {
            ceiling *= 2;
        }
        ceiling = Math.min(ceiling, max.toMillis());
        return Duration.ofMillis(ThreadLocalRandom.current().nextLong(ceiling / 2, ceiling + 1));
    }

    /** Records a success: the next failure waits about {@code min} again. */
    public void reset() {
        failures = 0;
    }

    /** Consecutive failures since the last success. */
    public int failures() {
        return failures;
    }
}
