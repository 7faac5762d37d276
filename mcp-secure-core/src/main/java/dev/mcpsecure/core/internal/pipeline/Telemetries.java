package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.CallContext;
import dev.mcpsecure.api.Telemetry;
import dev.mcpsecure.api.internal.CurrentCall;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's side of {@link Telemetry}: whatever an implementation throws is caught and logged
 * (at most once a minute), so a broken exporter never refuses or fails a call. Thread-safe.
 */
public final class Telemetries {

    private static final Logger LOG = LoggerFactory.getLogger("dev.mcpsecure.core");
    private static final AtomicLong LAST_COMPLAINT = new AtomicLong(Long.MIN_VALUE);

    private Telemetries() {}

    /** {@code telemetry} with every call guarded; {@link Telemetry#NONE} as it is. */
    public static Telemetry safe(Telemetry telemetry) {
        if (telemetry == Telemetry.NONE || telemetry instanceof Safe) {
            return telemetry;
        }
        return new Safe(telemetry);
    }

    /**
     * The trace context an outgoing request made on this thread carries: the current call's
     * {@link Telemetry.Observation#propagation} (guarded: the pipeline binds only observations made
     * through {@link #safe}), or none outside a call.
     */
    public static Map<String, String> propagation() {
        CurrentCall.Binding call = CurrentCall.get();
        return call == null ? Map.of() : call.observation().propagation();
    }

    static void quietly(Runnable action) {
        try {
            action.run();
        } catch (RuntimeException e) {
            complain(e);
        }
    }

    private static void complain(RuntimeException e) {
        long now = System.nanoTime();
        long last = LAST_COMPLAINT.get();
        if ((last == Long.MIN_VALUE || now - last > 60_000_000_000L) && LAST_COMPLAINT.compareAndSet(last, now)) {
            LOG.warn("telemetry failed (calls go on; further failures are not logged for a minute): {}", e.toString());
        }
    }

    private record Safe(Telemetry delegate) implements Telemetry {
        @Override
        public Observation start(CallContext call, Request request) {
            try {
                Observation observation = delegate.start(call, request);
                return observation == null ? Observation.NONE : new SafeObservation(observation);
            } catch (RuntimeException e) {
                complain(e);
                return Observation.NONE;
            }
        }

        @Override
        public void recorded(AuditEvent record, boolean written) {
            quietly(() -> delegate.recorded(record, written));
        }

        @Override
        public void tokenIssued(String audience, boolean minted) {
            quietly(() -> delegate.tokenIssued(audience, minted));
        }

        @Override
        public void serving(ServerState state) {
            quietly(() -> delegate.serving(state));
        }
    }

    /** An observation guarded, ended at most once (by end or abandon, whichever comes first). */
    private static final class SafeObservation implements Telemetry.Observation {
        private final Telemetry.Observation delegate;
        private final java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();

        SafeObservation(Telemetry.Observation delegate) {
            this.delegate = delegate;
        }

        @Override
        public Map<String, String> propagation() {
            try {
                Map<String, String> entries = delegate.propagation();
                return entries == null ? Map.of() : entries;
            } catch (RuntimeException e) {
                complain(e);
                return Map.of();
            }
        }

        @Override
        public void effect(AuditEvent effect) {
            quietly(() -> delegate.effect(effect));
        }

        @Override
        public void end(AuditEvent record) {
            if (ended.compareAndSet(false, true)) {
                quietly(() -> delegate.end(record));
            }
        }

        @Override
        public void abandon() {
            if (ended.compareAndSet(false, true)) {
                quietly(delegate::abandon);
            }
        }
    }
}
