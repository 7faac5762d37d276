package dev.mcpsecure.api;

import java.time.Duration;

/**
 * At most {@code calls} calls per {@code per}, enforced as a token bucket that refills evenly.
 *
 * @param calls 1 to 1,000,000
 * @param per 1 second to 1 day
 */
public record RateLimit(int calls, Duration per) {

    static final Duration MIN_PERIOD = Duration.ofSeconds(1);
    static final Duration MAX_PERIOD = Duration.ofDays(1);

    /** Validates both components. */
    public RateLimit {
        new Checks()
                .check("calls", Checks.between(calls, 1, 1_000_000))
                .check("per", Checks.between(per, MIN_PERIOD, MAX_PERIOD))
                .throwIfAny();
    }

    /** {@code calls/per}, the way a policy file writes it, e.g. {@code 60/1m}. */
    @Override
    public String toString() {
        return calls + "/" + Units.duration(per);
    }
}
