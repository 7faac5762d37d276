package dev.mcpsecure.api.internal;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.CallContext;
import dev.mcpsecure.api.Telemetry;
import java.util.function.Consumer;

/**
 * The call a thread serves and the audit door its effects go through; set by the enforcement
 * engine only (this package is exported to {@code dev.mcpsecure.core} alone). Not API.
 */
public final class CurrentCall {

    /**
     * What is bound to a thread while it serves a call: its context, its audit door, and its
     * telemetry observation (trace context for outgoing requests).
     */
    public record Binding(CallContext context, Consumer<AuditEvent> audit, Telemetry.Observation observation) {
        /** An absent observation is {@link Telemetry.Observation#NONE}. */
        public Binding {
            observation = observation == null ? Telemetry.Observation.NONE : observation;
        }

        /** A binding whose call nobody observes. */
        public Binding(CallContext context, Consumer<AuditEvent> audit) {
            this(context, audit, Telemetry.Observation.NONE);
        }
    }

    private static final ThreadLocal<Binding> BOUND = new ThreadLocal<>();

    private CurrentCall() {}

    /** The binding of this thread, or {@code null}. */
    public static Binding get() {
        return BOUND.get();
    }

    /** The context bound to this thread, or {@code null}. */
    public static CallContext context() {
        Binding binding = BOUND.get();
        return binding == null ? null : binding.context();
    }

    /**
     * Binds {@code binding} to this thread until the returned handle is closed, which restores
     * what was bound before.
     */
    public static Scope bind(Binding binding) {
        Binding previous = BOUND.get();
        BOUND.set(binding);
        return () -> {
            if (previous == null) {
                BOUND.remove();
            } else {
                BOUND.set(previous);
            }
        };
    }

    /** Ends a binding. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
