package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.AuditSink;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.internal.CurrentCall;

/**
 * Where {@code SecureFiles}, {@code SecureExec}, {@code EgressHttpClient} and the token and secret
 * sources record what they do: inside a call, as an {@link AuditEvent.Kind#EFFECT} record with the
 * call's id, session, caller and tool, through the server's audit gate (fail closed, an allowed
 * effect that cannot be recorded is refused with {@code AUDIT_UNAVAILABLE}); outside any call,
 * through the component's own sink when it has one (the record's {@code callId} is then
 * {@code null}), else not at all. Thread-safe.
 */
public final class Effects {

    private Effects() {}

    /**
     * Records an effect.
     *
     * @param action what was used ({@code file.read}, {@code process}, {@code egress}, ...)
     * @param detail what, for an allowed effect; a denial's own detail is appended
     * @param startNanos {@link System#nanoTime()} when the effect began
     * @param outside the sink for effects outside any call, or {@code null}
     * @param server the server's name for records outside any call
     * @throws PolicyViolationException inside a call, fail closed, when an allowed effect could not
     *     be recorded
     */
    public static void record(
            String action, Decision decision, String detail, long startNanos, AuditSink outside, String server) {
        long micros = (System.nanoTime() - startNanos) / 1_000;
        CurrentCall.Binding call = CurrentCall.get();
        if (call != null) {
            call.audit().accept(AuditEvent.effect(call.context(), server, action, decision, detail, micros));
        } else if (outside != null) {
            outside.record(AuditEvent.effect(null, server, action, decision, detail, micros));
        }
    }

    /** Whether this thread serves a call (its effects are recorded without a sink of their own). */
    public static boolean inCall() {
        return CurrentCall.get() != null;
    }
}
