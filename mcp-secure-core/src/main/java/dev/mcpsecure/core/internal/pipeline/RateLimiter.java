package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.api.RateLimit;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One tool's rate limit, counted for each session on its own: a client flooding one session uses
 * up its own budget, not other sessions'. (Server-wide load is bounded by the concurrency
 * limits.) Thread-safe.
 */
final class RateLimiter {

    /** Idle (full) buckets are forgotten once this many sessions are tracked. */
    static final int MAX_TRACKED_SESSIONS = 10_000;

    private final RateLimit limit;
    private final Map<String, TokenBucket> perSession = new ConcurrentHashMap<>();

    RateLimiter(RateLimit limit) {
        this.limit = limit;
    }

    /** Takes a token from {@code sessionId}'s bucket if it has one. */
    boolean tryAcquire(String sessionId, long now) {
        if (perSession.size() >= MAX_TRACKED_SESSIONS) {
            perSession.values().removeIf(bucket -> bucket.full(now));
        }
        TokenBucket bucket = perSession.get(sessionId); // no capturing lambda on the common path
        if (bucket == null) {
            bucket = perSession.computeIfAbsent(sessionId, id -> new TokenBucket(limit, now));
        }
        return bucket.tryTake(now);
    }
}
