package dev.mcpsecure.api;

/**
 * Where audit events go.
 *
 * <p>Implementations are thread-safe and return quickly: they are called once per decision on
 * the call path. An exception thrown here makes the call fail closed with
 * {@link ReasonCode#AUDIT_UNAVAILABLE}.
 */
public interface AuditSink {

    /** Records one event. */
    void record(AuditEvent event);

    /**
     * A sink that records each event here, then in {@code next} (say, the JSON-lines file and
     * then OpenTelemetry log records). The event counts as recorded only when both took it: what
     * either throws propagates, so the server's fail mode applies to both.
     */
    default AuditSink andThen(AuditSink next) {
        java.util.Objects.requireNonNull(next, "next");
        return event -> {
            record(event);
            next.record(event);
        };
    }
}
