package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.api.AccessToken;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.Secret;
import dev.mcpsecure.api.SecretSource;
import dev.mcpsecure.api.TokenSource;
import dev.mcpsecure.api.Untrusted;
import java.time.Instant;

/** The token and secret sources tool code sees: each value handed out is tracked for redaction. */
public final class RedactingSources {

    private RedactingSources() {}

    /**
     * {@code delegate}, or one that refuses every audience when it is {@code null}; each token
     * handed out or refused is an effect ({@code token}) recorded through {@code gate}.
     */
    public static TokenSource tokens(TokenSource delegate, Redactor redactor, AuditGate gate, String server) {
        return audience -> {
            String what = "token for audience " + Untrusted.text(audience);
            long start = System.nanoTime();
            AccessToken token;
            try {
                if (delegate == null) {
                    throw new PolicyViolationException(Decision.deny(
                            ReasonCode.TOKEN_AUDIENCE_UNKNOWN, "this server has no token source configured"));
                }
                token = delegate.token(audience);
            } catch (PolicyViolationException e) {
                Effects.record("token", e.decision(), what, start, gate::record, server);
                throw e;
            }
            boolean minted = redactor.track(token.value(), token.expiresAt());
            Effects.record(
                    "token",
                    Decision.allow(),
                    what + (minted ? ", newly minted" : ", reused") + ", expires " + token.expiresAt(),
                    start,
                    gate::record,
                    server);
            gate.telemetry().tokenIssued(audience, minted);
            return token;
        };
    }

    /**
     * {@code delegate}, or one that refuses every name when it is {@code null}; each secret handed
     * out or refused is an effect ({@code secret}, named, never its value) recorded through {@code gate}.
     */
    public static SecretSource secrets(SecretSource delegate, Redactor redactor, AuditGate gate, String server) {
        return name -> {
            String what = "secret " + Untrusted.text(name);
            long start = System.nanoTime();
            Secret secret;
            try {
                if (delegate == null) {
                    throw new PolicyViolationException(
                            Decision.deny(ReasonCode.SECRET_UNKNOWN, "this server has no secret source configured"));
                }
                secret = delegate.secret(name);
            } catch (PolicyViolationException e) {
                Effects.record("secret", e.decision(), what, start, gate::record, server);
                throw e;
            }
            redactor.track(secret.value(), Instant.MAX);
            Effects.record("secret", Decision.allow(), what, start, gate::record, server);
            return secret;
        };
    }
}
