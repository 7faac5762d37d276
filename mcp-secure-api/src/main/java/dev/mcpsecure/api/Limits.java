package dev.mcpsecure.api;

/**
 * Server-wide limits.
 *
 * @param maxArgumentBytes largest tool-call arguments (canonical JSON), 1 byte to 64 MiB
 * @param maxConcurrentCalls tool calls running at once across all tools, 1 to 10,000
 * @param maxMessageBytes longest JSON-RPC message (a stdio line) a transport reads, 1 KiB to 64 MiB;
 *     a longer one is refused with a JSON-RPC error without being held in memory
 */
public record Limits(long maxArgumentBytes, int maxConcurrentCalls, long maxMessageBytes) {

    /** Argument size cap when the policy sets none: 64 KiB. */
    public static final long DEFAULT_MAX_ARGUMENT_BYTES = 64L << 10;
    /** Concurrent call cap when the policy sets none. */
    public static final int DEFAULT_MAX_CONCURRENT_CALLS = 64;

    /** Message size cap when the policy sets none: 4 MiB. */
    public static final long DEFAULT_MAX_MESSAGE_BYTES = 4L << 20;

    private static final Limits DEFAULTS =
            new Limits(DEFAULT_MAX_ARGUMENT_BYTES, DEFAULT_MAX_CONCURRENT_CALLS, DEFAULT_MAX_MESSAGE_BYTES);

    /** Validates every component. */
    public Limits {
        new Checks()
                .check("maxArgumentBytes", Checks.sizeBetween(maxArgumentBytes, 1, 64L << 20))
                .check("maxConcurrentCalls", Checks.between(maxConcurrentCalls, 1, 10_000))
                .check("maxMessageBytes", Checks.sizeBetween(maxMessageBytes, 1L << 10, 64L << 20))
                .throwIfAny();
    }

    /** These argument and call limits with the default message size cap. */
    public Limits(long maxArgumentBytes, int maxConcurrentCalls) {
        this(maxArgumentBytes, maxConcurrentCalls, DEFAULT_MAX_MESSAGE_BYTES);
    }

    /** Every limit at its default. */
    public static Limits defaults() {
        return DEFAULTS;
    }
}
