package dev.mcpsecure.http.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The MCP sessions the HTTP gate lets through: created by a successful {@code initialize}, ended
 * by a {@code DELETE} or by staying idle longer than the timeout. Counts live sessions against the
 * cap. Thread-safe.
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

    /** @param nanoTime the clock, {@code System::nanoTime} outside tests */
    public SessionTable(int max, Duration idle, LongSupplier nanoTime) {
        this.max = max;
        this.idleNanos = idle.toNanos();
        this.nanoTime = nanoTime;
    }

    /** Whether no further session may open. */
    public boolean full() {
        return lastSeen.size() >= max;
    }

    /** Records a session the SDK just created. */
    public void opened(String id) {
        lastSeen.put(id, nanoTime.getAsLong());
    }

    /** Forgets a deleted session. */
    public void closed(String id) {
        lastSeen.remove(id);
    }

    /** Looks {@code id} up for a request, resetting its idle clock when it is live. */
    public State touch(String id) {
        long now = nanoTime.getAsLong();
        Long seen = lastSeen.get(id);
        if (seen == null) {
            return State.UNKNOWN;
        }
        if (now - seen > idleNanos) {
            return lastSeen.remove(id, seen) ? State.EXPIRED : State.UNKNOWN;
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
