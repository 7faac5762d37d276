package dev.mcpsecure.api;

import java.time.Instant;
import java.util.Objects;
import java.util.Set;

/**
 * The claims of a bearer token that passed verification. Holds no token value.
 *
 * @param subject the token's {@code sub}
 * @param clientId the OAuth client the token was issued to, or {@code ""} when absent
 * @param scopes the granted scopes
 * @param expiresAt the token's {@code exp}
 */
public record VerifiedToken(String subject, String clientId, Set<String> scopes, Instant expiresAt) {

    /**
     * The key under which an authenticating transport puts the caller's {@code VerifiedToken} into
     * the MCP transport context, where the tool pipeline reads it for scopes and audit.
     */
    public static final String TRANSPORT_CONTEXT_KEY = "dev.mcpsecure/verified-token";

    /** Validates and copies. */
    public VerifiedToken {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(clientId, "clientId");
        Objects.requireNonNull(expiresAt, "expiresAt");
        scopes = Set.copyOf(scopes);
    }

    /**
     * Who called, as sessions and rate limits key it: the subject, and the client it used when the
     * token names one (the verifier accepts tokens of one issuer, so the issuer is implied).
     */
    public String principal() {
        return clientId.isEmpty() ? subject : subject + " via " + clientId;
    }
}
