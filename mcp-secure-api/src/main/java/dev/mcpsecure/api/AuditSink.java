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
}
