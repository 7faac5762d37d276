package dev.mcpsecure.http.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The MCP sessions the HTTP gate lets through: created by a successful {@code initialize}, ended
 * by a {@code DELETE} or by staying idle longer than the timeout, each held by the principal that
 * created it (without authentication, by its client's address and {@code User-Agent}). Live sessions and those being created count against
 * the server's cap and the owner's, so concurrent {@code initialize} requests cannot pass either.
 * Thread-safe: a request's lookup ({@link #touch}) takes no lock; creating and ending sessions do.
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

    /** Whether a session may be created. */
    public enum Reservation {
        /** A place is taken; give it back with {@link #created}. */
        TAKEN,
        /** The server has its maximum of live sessions. */
        SERVER_FULL,
        /** The caller has its maximum of live sessions. */
        PRINCIPAL_FULL
    }

    /**
     * How the holder of a session made without authentication starts (then its client's address
     * and {@code User-Agent}); no principal does, so such a holder never meets a per-principal cap.
     */
    public static final String ANONYMOUS = "\u0000anonymous ";

    private final int max;
    private final int maxPerPrincipal;
    private final long idleNanos;
    private final LongSupplier nanoTime;
    private final Map<String, Long> lastSeen = new ConcurrentHashMap<>();
    private final Map<String, String> owners = new ConcurrentHashMap<>();
    /** Guarded by this: live and being-created sessions per owner (none for unauthenticated ones). */
    private final Map<String, Integer> held = new HashMap<>();
    /** Guarded by this. */
    private int creating;

    /**
     * @param maxPerPrincipal live sessions one authenticated principal may hold
     * @param nanoTime the clock, {@code System::nanoTime} outside tests
     */
    public SessionTable(int max, int maxPerPrincipal, Duration idle, LongSupplier nanoTime) {
        this.max = max;
        this.maxPerPrincipal = maxPerPrincipal;
        this.idleNanos = idle.toNanos();
        this.nanoTime = nanoTime;
    }

    /**
     * Takes a place for a session {@code owner} ({@code null}: no authentication) is about to
     * create, if the caps leave one; give it back with {@link #created} once the {@code
     * initialize} request is done, whether or not it opened one.
     */
    public synchronized Reservation reserve(String owner) {
        if (lastSeen.size() + creating >= max) {
            return Reservation.SERVER_FULL;
        }
        if (owner != null && held.getOrDefault(owner, 0) >= maxPerPrincipal) {
            return Reservation.PRINCIPAL_FULL;
        }
        creating++;
        if (owner != null) {
            held.merge(owner, 1, Integer::sum);
        }
        return Reservation.TAKEN;
    }

    /**
     * Gives back a place {@link #reserve} took for {@code owner}; a session it opened meanwhile
     * ({@link #opened}) now counts itself.
     */
    public synchronized void created(String owner, boolean opened) {
        creating--;
        if (owner != null && !opened) {
            release(owner);
        }
    }

    /**
     * Records a session the SDK just created, held by {@code holder}: the principal that created it,
     * or {@link #ANONYMOUS} and its client without authentication.
     */
    public synchronized void opened(String id, String holder) {
        owners.put(id, holder);
        lastSeen.put(id, nanoTime.getAsLong());
    }

    /** Whether {@code holder} (as given to {@link #opened}) may use session {@code id}: the one that opened it. */
    public boolean ownedBy(String id, String holder) {
        String owner = owners.get(id);
        return owner == null || owner.equals(holder);
    }

    /** Forgets a deleted session. */
    public synchronized void closed(String id) {
        if (lastSeen.remove(id) != null) {
            ended(id);
        }
    }

    /** Looks {@code id} up for a request, resetting its idle clock when it is live. */
    public State touch(String id) {
        long now = nanoTime.getAsLong();
        Long seen = lastSeen.get(id);
        if (seen == null) {
            return State.UNKNOWN;
        }
        if (now - seen > idleNanos) {
            return expire(id, seen) ? State.EXPIRED : State.UNKNOWN;
        }
        lastSeen.replace(id, seen, now);
        return State.LIVE;
    }

    /** Removes and returns the sessions idle longer than the timeout. */
    public List<String> expire() {
        long now = nanoTime.getAsLong();
        List<String> expired = new ArrayList<>();
        lastSeen.forEach((id, seen) -> {
            if (now - seen > idleNanos && expire(id, seen)) {
                expired.add(id);
            }
        });
        return expired;
    }

    /** Live sessions now. */
    public int live() {
        return lastSeen.size();
    }

    private synchronized boolean expire(String id, Long seen) {
        if (!lastSeen.remove(id, seen)) {
            return false;
        }
        ended(id);
        return true;
    }

    /** Guarded by this. */
    private void ended(String id) {
        String owner = owners.remove(id);
        if (owner != null && !owner.startsWith(ANONYMOUS)) {
            release(owner);
        }
    }

    /** Guarded by this. */
    private void release(String owner) {
        held.computeIfPresent(owner, (key, count) -> count <= 1 ? null : count - 1);
    }
}
