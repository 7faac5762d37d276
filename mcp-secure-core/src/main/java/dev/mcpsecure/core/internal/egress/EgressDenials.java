package dev.mcpsecure.core.internal.egress;

import dev.mcpsecure.api.Decision;
import java.net.UnknownHostException;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.Optional;
import java.util.Set;

/**
 * How the resolver and the socket factory refuse a connection from inside the HTTP engine, and
 * how {@code EgressHttpClient} finds the refusal again in whatever the engine throws.
 */
public final class EgressDenials {

    private EgressDenials() {}

    /**
     * A refused lookup or connect, carrying the denial. An {@link UnknownHostException} because
     * that is the only checked exception the engine's resolver interface allows; sockets throw it
     * too, so there is one type to look for.
     */
    public static final class Denied extends UnknownHostException {
        private static final long serialVersionUID = 1L;

        /** @serial the denial */
        private final Decision decision;

        Denied(Decision decision) {
            super(decision.detail());
            this.decision = decision;
        }

        /** The denial. */
        public Decision decision() {
            return decision;
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }

    /** The denial carried anywhere in {@code failure}'s causes or suppressed exceptions. */
    public static Optional<Decision> find(Throwable failure) {
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Deque<Throwable> todo = new ArrayDeque<>();
        todo.add(failure);
        while (!todo.isEmpty()) {
            Throwable next = todo.poll();
            if (!seen.add(next)) {
                continue;
            }
            if (next instanceof Denied denied) {
                return Optional.of(denied.decision());
            }
            if (next.getCause() != null) {
                todo.add(next.getCause());
            }
            Collections.addAll(todo, next.getSuppressed());
        }
        return Optional.empty();
    }
}
