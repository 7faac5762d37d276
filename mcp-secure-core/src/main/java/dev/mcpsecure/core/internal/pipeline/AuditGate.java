package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.AuditPolicy;
import dev.mcpsecure.api.AuditSink;
import dev.mcpsecure.api.Telemetry;
import dev.mcpsecure.core.AuditCounters;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the audit events of calls and says whether a call may report its result, as the audit
 * policy's fail mode decides. A write that throws, or takes longer than the timeout, has failed.
 * While a write has been running longer than the timeout, the sink counts as stuck: further events
 * are not offered to it (the calling threads would only queue up behind it) but dropped and
 * counted. Fail closed, a failed or dropped event withholds the call's result; fail open, the call
 * goes on. Errors (not exceptions) from the sink propagate. Thread-safe.
 */
public final class AuditGate {

    private static final Logger LOG = LoggerFactory.getLogger("dev.mcpsecure.core");

    private final AuditSink sink;
    private volatile Telemetry telemetry;
    private final boolean failOpen;
    private final long timeoutNanos;
    private final LongSupplier nanoTime;
    private final Map<Thread, Long> writing = new ConcurrentHashMap<>();
    private final AtomicLong recorded = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong lastComplaint = new AtomicLong(Long.MIN_VALUE);

    public AuditGate(AuditSink sink, AuditPolicy policy, LongSupplier nanoTime) {
        this(sink, policy, nanoTime, Telemetry.NONE);
    }

    /** @param telemetry hears of every record after the sink had it (see {@link Telemetry#recorded}) */
    public AuditGate(AuditSink sink, AuditPolicy policy, LongSupplier nanoTime, Telemetry telemetry) {
        this.telemetry = Telemetries.safe(telemetry);
        this.sink = sink;
        this.failOpen = policy.failMode() == AuditPolicy.FailMode.OPEN;
        this.timeoutNanos = policy.timeout().toNanos();
        this.nanoTime = nanoTime;
    }

    /**
     * Writes {@code event}.
     *
     * @return whether the call may report an allowed result: always when fail open; fail closed,
     *     only when the event was written in time
     */
    public boolean record(AuditEvent event) {
        boolean written = write(event);
        telemetry.recorded(event, written); // guarded: the gate holds only Telemetries.safe(...)
        return written || failOpen;
    }

    /** Writes {@code event}; whether the sink took it in time. */
    private boolean write(AuditEvent event) {
        long start = nanoTime.getAsLong();
        if (stuck(start)) {
            dropped.incrementAndGet();
            complain(start, "the audit sink has been stuck for longer than its timeout; an event was dropped", null);
            return false;
        }
        Thread self = Thread.currentThread();
        writing.put(self, start);
        try {
            sink.record(event);
        } catch (RuntimeException e) {
            failed.incrementAndGet();
            complain(start, "the audit sink failed", e);
            return false;
        } finally {
            writing.remove(self);
        }
        if (nanoTime.getAsLong() - start > timeoutNanos) {
            failed.incrementAndGet();
            complain(start, "an audit write took longer than its timeout", null);
            return false;
        }
        recorded.incrementAndGet();
        return true;
    }

    /** Who hears of every record (guarded: it never throws). */
    public Telemetry telemetry() {
        return telemetry;
    }

    /** From now on, tells {@code telemetry} of every record. */
    public void telemetry(Telemetry telemetry) {
        this.telemetry = Telemetries.safe(telemetry);
    }

    /** The counts so far. */
    public AuditCounters counters() {
        return new AuditCounters(recorded.get(), failed.get(), dropped.get());
    }

    private boolean stuck(long now) {
        for (Long since : writing.values()) {
            if (now - since > timeoutNanos) {
                return true;
            }
        }
        return false;
    }

    /** Logs at most once a second, so a failing sink does not flood the server log. */
    private void complain(long now, String what, RuntimeException cause) {
        long last = lastComplaint.get();
        if (now - last >= 1_000_000_000L && lastComplaint.compareAndSet(last, now)) {
            String outcome = failOpen ? "; fail open: the call goes on" : "; fail closed: the result is withheld";
            if (cause == null) {
                LOG.error("{}{} (counters {})", what, outcome, counters());
            } else {
                LOG.error("{}{} (counters {})", what, outcome, counters(), cause);
            }
        }
    }
}
