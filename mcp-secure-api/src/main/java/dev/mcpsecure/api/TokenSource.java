package dev.mcpsecure.api;

/**
 * Gives this server short-lived tokens for the audiences its policy lists, fetching them when
 * first needed and caching them while valid.
 *
 * <p>Implementations are thread-safe; concurrent requests for one audience cause one fetch.
 */
public interface TokenSource {

    /**
     * @param audience an audience listed in the token policy
     * @return a token whose audience is exactly {@code audience} and whose lifetime is within the
     *     policy's TTL
     * @throws PolicyViolationException with {@link ReasonCode#TOKEN_AUDIENCE_UNKNOWN} (without any
     *     request to the issuer) or {@link ReasonCode#VAULT_UNAVAILABLE} (within a bounded time)
     */
    AccessToken token(String audience);
}
