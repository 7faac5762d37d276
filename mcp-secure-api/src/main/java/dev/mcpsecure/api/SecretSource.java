package dev.mcpsecure.api;

/**
 * Gives tools the secrets their policy names, fetched on demand and never written to disk or the
 * environment.
 *
 * <p>Implementations are thread-safe. Values handed out are registered for redaction, so they
 * never leave the server in a tool result.
 */
public interface SecretSource {

    /**
     * @param name a secret name the policy maps
     * @return the secret
     * @throws PolicyViolationException with {@link ReasonCode#VAULT_UNAVAILABLE} when the store
     *     cannot be reached in time; the message never contains a value
     */
    Secret secret(String name);
}
