package dev.mcpsecure.http.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * The MCP sessions the HTTP gate lets through: created by a successful {@code initialize}, ended
 * by a {@code DELETE} or by staying idle longer than the timeout, each owned by the principal that
 * created it (none without authentication). Counts live sessions and those being created against
 * the cap, so concurrent {@code initialize} requests cannot pass it together. Thread-safe.
 */
public final class SessionTable {

    /** What the table knows of a session id. */
    public enum State {
        /** Live; its idle clock was reset. */
        LIVE,
        /** Never created here, or already deleted. */
        UNKNOWN,
        /** Ended for idleness just now. */
        EXPIRED
    }

    private final int max;
    private final long idleNanos;
    private final LongSupplier nanoTime;
    private final Map<String, Long> lastSeen = new ConcurrentHashMap<>();
    private final Map<String, String> owners = new ConcurrentHashMap<>();
    private final AtomicInteger creating = new AtomicInteger();

    /** @param nanoTime the clock, {@code System::nanoTime} outside tests */
    public SessionTable(int max, Duration idle, LongSupplier nanoTime) {
        this.max = max;
        this.idleNanos = idle.toNanos();
        this.nanoTime = nanoTime;
    }

    /**
     * Takes a place for a session about to be created, if the cap leaves one; give it back with
     * {@link #created()} once the {@code initialize} request is done, whether or not it opened one.
     */
    public boolean reserve() {
        while (true) {
            int pending = creating.get();
            if (lastSeen.size() + pending >= max) {
                return false;
            }
            if (creating.compareAndSet(pending, pending + 1)) {
                return true;
            }
        }
    }

    /** Gives back a place {@link #reserve()} took (the session, if opened, now counts itself). */
    public void created() {
        creating.decrementAndGet();
    }

    /** Records a session the SDK just created, owned by {@code owner} ({@code null}: no authentication). */
    public void opened(String id, String owner) {
        owners.put(id, owner == null ? "" : owner);
        lastSeen.put(id, nanoTime.getAsLong());
    }

    /**
     * Whether {@code principal} ({@code null}: no authentication) may use session {@code id}: its
     * owner, or anyone when it was created without authentication.
     */
    public boolean ownedBy(String id, String principal) {
        String owner = owners.get(id);
        return owner == null || owner.isEmpty() || owner.equals(principal);
    }

    /** Forgets a deleted session. */
    public void closed(String id) {
        lastSeen.remove(id);
        owners.remove(id);
    }

    /** Looks {@code id} up for a request, resetting its idle clock when it is live. */
    public State touch(String id) {
        long now = nanoTime.getAsLong();
        Long seen = lastSeen.get(id);
        if (seen == null) {
            return State.UNKNOWN;
        }
        if (now - seen > idleNanos) {
            if (lastSeen.remove(id, seen)) {
                owners.remove(id);
                return State.EXPIRED;
            }
            return State.UNKNOWN;
        }
        lastSeen.replace(id, seen, now);
        return State.LIVE;
    }

    /** Removes and returns the sessions idle longer than the timeout. */
    public List<String> expire() {
        long now = nanoTime.getAsLong();
        List<String> expired = new ArrayList<>();
        lastSeen.forEach((id, seen) -> {
            if (now - seen > idleNanos && lastSeen.remove(id, seen)) {
                owners.remove(id);
                expired.add(id);
            }
        });
        return expired;
    }

    /** Live sessions now. */
    public int live() {
        return lastSeen.size();
    }
}
