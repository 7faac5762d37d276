package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.api.RateLimit;

/**
 * A token bucket holding up to {@code calls} tokens that refills evenly over {@code per}. Starts
 * full. Thread-safe.
 */
final class TokenBucket {

    private final double capacity;
    private final double tokensPerNano;
    private double tokens;
    private long updatedAt;

    TokenBucket(RateLimit limit, long now) {
        this.capacity = limit.calls();
        this.tokensPerNano = limit.calls() / (double) limit.per().toNanos();
        this.tokens = capacity;
        this.updatedAt = now;
    }

    /** Whether a token is available at {@code now}, without taking it. */
    synchronized boolean hasToken(long now) {
        refill(now);
        return tokens >= 1;
    }

    /** Takes a token; call only after {@link #hasToken} said yes under the same lock holder. */
    synchronized void take() {
        tokens -= 1;
    }

    /** Whether the bucket is full at {@code now}: an idle bucket that can be forgotten. */
    synchronized boolean full(long now) {
        refill(now);
        return tokens >= capacity;
    }

    private void refill(long now) {
        long elapsed = now - updatedAt;
        if (elapsed > 0) {
            tokens = Math.min(capacity, tokens + elapsed * tokensPerNano);
            updatedAt = now;
        }
    }
}
