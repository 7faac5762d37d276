package dev.mcpsecure.vault.internal;

import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;

/**
 * Why one vault request failed, classified for retry and for the reason code callers see. The
 * message names the operation and the vault's status or error; it never carries a request or
 * response body, so it never carries a token or secret.
 */
public final class VaultFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Kind {
        /** No connection, a reset, or no answer in time. Retried. */
        UNREACHABLE,
        /** 5xx, including a sealed or standby vault. Retried. */
        SERVER_ERROR,
        /** 403: the token was revoked, expired or lacks a policy. Answered by a fresh login. */
        DENIED,
        /** 404: nothing at the path. */
        NOT_FOUND,
        /** Any other refusal (400, 401, 405...). Not retried. */
        REJECTED,
        /** The vault answered 2xx with something that is not what was asked for. Not retried. */
        INVALID_RESPONSE,
        /** An identity token that failed validation (signature, audience, lifetime). Not retried. */
        INVALID_TOKEN
    }

    private final Kind kind;

    /** A failure of {@code kind}; {@code message} must hold no secret. */
    public VaultFailure(Kind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /** Whether trying the same request again may succeed. */
    public boolean retryable() {
        return kind == Kind.UNREACHABLE || kind == Kind.SERVER_ERROR;
    }

    /** The exception tool code and the pipeline see: TOKEN_INVALID for a bad token, else VAULT_UNAVAILABLE. */
    public PolicyViolationException toViolation(String context) {
        ReasonCode reason = kind == Kind.INVALID_TOKEN ? ReasonCode.TOKEN_INVALID : ReasonCode.VAULT_UNAVAILABLE;
        return new PolicyViolationException(Decision.deny(reason, context + ": " + getMessage()));
    }
}
