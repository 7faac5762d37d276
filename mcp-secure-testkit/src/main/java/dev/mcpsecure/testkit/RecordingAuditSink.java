package dev.mcpsecure.testkit;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.AuditSink;
import dev.mcpsecure.api.ReasonCode;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

/**
 * An {@link AuditSink} that keeps every event in memory, for tests to assert on. Thread-safe;
 * unbounded, so for tests only.
 */
public final class RecordingAuditSink implements AuditSink {

    private final List<AuditEvent> events = new CopyOnWriteArrayList<>();

    /** An empty sink. */
    public RecordingAuditSink() {}

    @Override
    public void record(AuditEvent event) {
        events.add(java.util.Objects.requireNonNull(event, "event"));
    }

    /** Every event recorded so far, oldest first; a snapshot. */
    public List<AuditEvent> events() {
        return List.copyOf(events);
    }

    /** The reason codes of the events recorded so far, oldest first. */
    public List<ReasonCode> reasons() {
        return events.stream().map(AuditEvent::reason).collect(Collectors.toUnmodifiableList());
    }

    /** Forgets every event recorded so far. */
    public void clear() {
        events.clear();
    }
}
