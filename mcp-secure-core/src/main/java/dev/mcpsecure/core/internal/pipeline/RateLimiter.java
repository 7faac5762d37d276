package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.api.RateLimit;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One tool's rate limit, enforced twice: across all sessions, and for each session on its own, so
 * that no single session can use the whole budget while it still applies to all of them. A call
 * takes a token from both buckets or from neither. Thread-safe.
 */
final class RateLimiter {

    /** Idle per-session buckets are forgotten once this many are kept. */
    static final int MAX_TRACKED_SESSIONS = 10_000;

    private final RateLimit limit;
    private final TokenBucket global;
    private final Map<String, TokenBucket> perSession = new ConcurrentHashMap<>();

    RateLimiter(RateLimit limit, long now) {
        this.limit = limit;
        this.global = new TokenBucket(limit, now);
    }

    /** Takes a token for {@code sessionId} if both buckets have one. */
    boolean tryAcquire(String sessionId, long now) {
        if (perSession.size() >= MAX_TRACKED_SESSIONS) {
            perSession.values().removeIf(bucket -> bucket.full(now));
        }
        TokenBucket session = perSession.computeIfAbsent(sessionId, id -> new TokenBucket(limit, now));
        synchronized (this) {
            if (!session.hasToken(now) || !global.hasToken(now)) {
                return false;
            }
            session.take();
            global.take();
            return true;
        }
    }
}
