package dev.mcpsecure.api;

/**
 * Verifies the bearer tokens clients present on HTTP transports.
 *
 * <p>Implementations are thread-safe. They check the signature against trusted keys only, the
 * issuer exactly, that the audience names this server, the expiry and lifetime, and refuse
 * {@code alg: none}.
 */
public interface TokenVerifier {

    /**
     * @param bearerToken the token from the {@code Authorization} header, without the scheme
     * @return the verified claims
     * @throws PolicyViolationException with {@link ReasonCode#TOKEN_MISSING} or
     *     {@link ReasonCode#TOKEN_INVALID}; its message never contains the token
     */
    VerifiedToken verify(String bearerToken);
}
