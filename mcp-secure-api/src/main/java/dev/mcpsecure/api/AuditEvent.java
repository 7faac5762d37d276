package dev.mcpsecure.api;

import java.time.Instant;
import java.util.Objects;

/**
 * One decision, as the audit log records it. Never carries a token or secret value.
 *
 * @param time when the decision was made
 * @param server the server identity's name
 * @param sessionId the MCP session, or {@code null} when there is none
 * @param clientName the client's declared name, or {@code null} when unknown
 * @param clientVersion the client's declared version, or {@code null} when unknown
 * @param subject the verified token's subject, or {@code null} (stdio)
 * @param clientId the OAuth client the verified token was issued to, or {@code null}
 * @param tool the tool called, or {@code null} for decisions outside a tool call
 * @param allowed whether the operation was allowed
 * @param reason the stable reason code
 * @param argumentsSha256 hex SHA-256 of the canonical JSON arguments, or {@code null}
 * @param durationMicros how long the call took, in microseconds
 * @param redactions how many secret or token values were removed from the result
 * @param incidentId the id under which a failure's details are in the server log, or {@code null}
 * @param detail a short, client-safe explanation
 * @param arguments the call's arguments as canonical JSON with token and secret values redacted,
 *     only when the audit policy asks for them; otherwise {@code null}
 */
public record AuditEvent(
        Instant time,
        String server,
        String sessionId,
        String clientName,
        String clientVersion,
        String subject,
        String clientId,
        String tool,
        boolean allowed,
        ReasonCode reason,
        String argumentsSha256,
        long durationMicros,
        int redactions,
        String incidentId,
        String detail,
        String arguments) {

    /** Validates the required components. */
    public AuditEvent {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(detail, "detail");
        if (allowed != (reason == ReasonCode.ALLOWED)) {
            throw new IllegalArgumentException("allowed=" + allowed + " does not agree with reason " + reason);
        }
    }

    /**
     * An event for a decision made outside any call's session: at start, on the transport, about
     * the tool surface. {@code tool} may be {@code null}.
     */
    public static AuditEvent outsideCall(Instant time, String server, String tool, Decision decision) {
        return new AuditEvent(
                time,
                server,
                null,
                null,
                null,
                null,
                null,
                tool,
                decision.allowed(),
                decision.reason(),
                null,
                0,
                0,
                null,
                decision.detail(),
                null);
    }
}
