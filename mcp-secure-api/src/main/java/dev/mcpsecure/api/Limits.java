package dev.mcpsecure.api;

/**
 * Server-wide limits.
 *
 * @param maxArgumentBytes largest tool-call arguments (canonical JSON), 1 byte to 64 MiB
 * @param maxConcurrentCalls tool calls running at once across all tools, 1 to 10,000
 */
public record Limits(long maxArgumentBytes, int maxConcurrentCalls) {

    /** Argument size cap when the policy sets none: 64 KiB. */
    public static final long DEFAULT_MAX_ARGUMENT_BYTES = 64L << 10;
    /** Concurrent call cap when the policy sets none. */
    public static final int DEFAULT_MAX_CONCURRENT_CALLS = 64;

    private static final Limits DEFAULTS = new Limits(DEFAULT_MAX_ARGUMENT_BYTES, DEFAULT_MAX_CONCURRENT_CALLS);

    /** Validates both components. */
    public Limits {
        new Checks()
                .check("maxArgumentBytes", Checks.sizeBetween(maxArgumentBytes, 1, 64L << 20))
                .check("maxConcurrentCalls", Checks.between(maxConcurrentCalls, 1, 10_000))
                .throwIfAny();
    }

    /** Every limit at its default. */
    public static Limits defaults() {
        return DEFAULTS;
    }
}
