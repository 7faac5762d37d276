package dev.mcpsecure.api;

import java.time.Instant;
import java.util.Objects;

/**
 * One audit record. Never carries a token or secret value. Build records with the factory of
 * their {@link Kind}; each says which components it fills.
 *
 * @param kind what the record is about
 * @param outcome allowed, denied, or a finding recorded without refusing anything
 * @param time when the decision was made
 * @param server the server identity's name
 * @param callId the call the record belongs to ({@link Kind#CALL} and {@link Kind#EFFECT} inside
 *     a call), or {@code null}: outside any call (start-up, background refresh, the transport)
 * @param sessionId the MCP session, or {@code null} when there is none
 * @param clientName the client's declared name, or {@code null} when unknown
 * @param clientVersion the client's declared version, or {@code null} when unknown
 * @param subject the verified token's subject, or {@code null} (stdio)
 * @param clientId the OAuth client the verified token was issued to, or {@code null}
 * @param tool the tool called, or {@code null} for decisions outside a tool call
 * @param action for {@link Kind#EFFECT}, what the tool used ({@code file.read}, {@code
 *     file.write}, {@code file.list}, {@code file.delete}, {@code process}, {@code egress}, {@code
 *     token}, {@code secret}); else {@code null}
 * @param reason the stable reason code; {@link ReasonCode#ALLOWED} exactly when allowed
 * @param argumentsSha256 hex SHA-256 of the canonical JSON arguments, or {@code null}
 * @param durationMicros how long the call or effect took, in microseconds
 * @param redactions how many secret or token values were removed from the result
 * @param incidentId the id under which a failure's details are in the server log, or {@code null}
 * @param detail a short, client-safe explanation
 * @param arguments the call's arguments as canonical JSON with token and secret values redacted,
 *     only when the audit policy asks for them; otherwise {@code null}
 */
public record AuditEvent(
        Kind kind,
        Outcome outcome,
        Instant time,
        String server,
        String callId,
        String sessionId,
        String clientName,
        String clientVersion,
        String subject,
        String clientId,
        String tool,
        String action,
        ReasonCode reason,
        String argumentsSha256,
        long durationMicros,
        int redactions,
        String incidentId,
        String detail,
        String arguments) {

    /** What a record is about. */
    public enum Kind {
        /** One {@code tools/call}, whatever became of it: exactly one per call. */
        CALL,
        /** A file, process, connection, token or secret a tool used or was refused. */
        EFFECT,
        /** A request the transport refused before any call (Host, Origin, token, session, size). */
        TRANSPORT,
        /** A message that is not a well-formed request, or a method the server does not serve. */
        MESSAGE,
        /** The start-up check of the process and its environment. */
        START,
        /** The tool surface: a tool not exposed, withheld, added or replaced. */
        SURFACE
    }

    /** How a decision came out. */
    public enum Outcome {
        ALLOW,
        DENY,
        /** A problem recorded in report mode: nothing was refused. */
        FINDING
    }

    /** Validates the required components. */
    public AuditEvent {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(detail, "detail");
        if ((outcome == Outcome.ALLOW) != (reason == ReasonCode.ALLOWED)) {
            throw new IllegalArgumentException("outcome " + outcome + " does not agree with reason " + reason);
        }
    }

    /** Whether the operation was allowed. */
    public boolean allowed() {
        return outcome == Outcome.ALLOW;
    }

    /**
     * The record of one tool call.
     *
     * @param arguments the redacted canonical arguments, or {@code null} when not recorded
     */
    public static AuditEvent call(
            CallContext call,
            Decision decision,
            long durationMicros,
            int redactions,
            String incidentId,
            String arguments) {
        return new AuditEvent(
                Kind.CALL,
                outcomeOf(decision),
                Instant.now(),
                call.server(),
                call.callId(),
                call.sessionId(),
                call.clientName(),
                call.clientVersion(),
                call.subject(),
                call.clientId(),
                call.tool(),
                null,
                decision.reason(),
                call.argumentsSha256(),
                durationMicros,
                redactions,
                incidentId,
                decision.detail(),
                arguments);
    }

    /**
     * The record of one effect: inside {@code call}, or outside any call when {@code call} is
     * {@code null}.
     *
     * @param detail what was used, for an allowed effect; a denial's detail is its own
     */
    public static AuditEvent effect(
            CallContext call, String server, String action, Decision decision, String detail, long durationMicros) {
        return new AuditEvent(
                Kind.EFFECT,
                outcomeOf(decision),
                Instant.now(),
                call == null ? server : call.server(),
                call == null ? null : call.callId(),
                call == null ? null : call.sessionId(),
                call == null ? null : call.clientName(),
                call == null ? null : call.clientVersion(),
                call == null ? null : call.subject(),
                call == null ? null : call.clientId(),
                call == null ? null : call.tool(),
                Objects.requireNonNull(action, "action"),
                decision.reason(),
                null,
                durationMicros,
                0,
                null,
                decision.allowed() ? detail : detail + ": " + decision.detail(),
                null);
    }

    /** A request the transport refused before it became a call; {@code caller} may be {@code null}. */
    public static AuditEvent transport(
            String server, String sessionId, VerifiedToken caller, String tool, Decision decision) {
        return outside(
                Kind.TRANSPORT,
                outcomeOf(decision),
                server,
                sessionId,
                caller == null ? null : caller.subject(),
                caller == null || caller.clientId().isEmpty() ? null : caller.clientId(),
                tool,
                decision);
    }

    /** A malformed message or a request for a method the server does not serve. */
    public static AuditEvent message(String server, String sessionId, Decision decision) {
        return outside(Kind.MESSAGE, outcomeOf(decision), server, sessionId, null, null, null, decision);
    }

    /**
     * The start-up check's result: a failed check is {@link Outcome#DENY} when it stops the start
     * ({@code enforced}), else a {@link Outcome#FINDING}.
     */
    public static AuditEvent start(String server, Decision decision, boolean enforced) {
        Outcome outcome = decision.allowed() ? Outcome.ALLOW : enforced ? Outcome.DENY : Outcome.FINDING;
        return outside(Kind.START, outcome, server, null, null, null, null, decision);
    }

    /**
     * A decision about the tool surface: {@link Outcome#FINDING} when {@code finding} (recorded
     * in report mode, nothing withheld), else allowed or denied as {@code decision} says.
     */
    public static AuditEvent surface(String server, String tool, Decision decision, boolean finding) {
        Outcome outcome = decision.allowed() ? Outcome.ALLOW : finding ? Outcome.FINDING : Outcome.DENY;
        return outside(Kind.SURFACE, outcome, server, null, null, null, tool, decision);
    }

    /** A record that belongs to no call. */
    private static AuditEvent outside(
            Kind kind,
            Outcome outcome,
            String server,
            String sessionId,
            String subject,
            String clientId,
            String tool,
            Decision decision) {
        return new AuditEvent(
                kind,
                outcome,
                Instant.now(),
                server,
                null,
                sessionId,
                null,
                null,
                subject,
                clientId,
                tool,
                null,
                decision.reason(),
                null,
                0,
                0,
                null,
                decision.detail(),
                null);
    }

    private static Outcome outcomeOf(Decision decision) {
        return decision.allowed() ? Outcome.ALLOW : Outcome.DENY;
    }
}
