package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.api.AccessToken;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.Secret;
import dev.mcpsecure.api.SecretSource;
import dev.mcpsecure.api.TokenSource;
import java.time.Instant;

/** The token and secret sources tool code sees: each value handed out is tracked for redaction. */
public final class RedactingSources {

    private RedactingSources() {}

    /** {@code delegate}, or one that refuses every audience when it is {@code null}. */
    public static TokenSource tokens(TokenSource delegate, Redactor redactor) {
        if (delegate == null) {
            return audience -> {
                throw new PolicyViolationException(
                        Decision.deny(ReasonCode.TOKEN_AUDIENCE_UNKNOWN, "this server has no token source configured"));
            };
        }
        return audience -> {
            AccessToken token = delegate.token(audience);
            redactor.track(token.value(), token.expiresAt());
            return token;
        };
    }

    /** {@code delegate}, or one that refuses every name when it is {@code null}. */
    public static SecretSource secrets(SecretSource delegate, Redactor redactor) {
        if (delegate == null) {
            return name -> {
                throw new PolicyViolationException(
                        Decision.deny(ReasonCode.SECRET_UNKNOWN, "this server has no secret source configured"));
            };
        }
        return name -> {
            Secret secret = delegate.secret(name);
            redactor.track(secret.value(), Instant.MAX);
            return secret;
        };
    }
}
