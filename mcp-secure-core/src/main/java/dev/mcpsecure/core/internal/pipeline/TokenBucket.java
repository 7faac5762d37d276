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

    /** Takes a token if one is available at {@code now}. */
    synchronized boolean tryTake(long now) {
        refill(now);
        if (tokens < 1) {
            return false;
        }
        tokens -= 1;
        return true;
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
