package dev.mcpsecure.vault;

import dev.mcpsecure.api.Cidr;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Where the vault (HashiCorp Vault or OpenBao) is and how long to wait for it. Holds no
 * credential.
 *
 * @param address the vault's base URL, {@code https://host[:port]}; plain {@code http} only to a
 *     loopback address, since tokens travel on this connection
 * @param namespace the Vault Enterprise namespace, or {@code ""}
 * @param connectTimeout how long to wait for a connection, 100 ms to 1 min
 * @param readTimeout how long to wait for an answer, 100 ms to 5 min
 */
public record VaultSettings(URI address, String namespace, Duration connectTimeout, Duration readTimeout) {

    /** Connect timeout when none is given. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);
    /** Read timeout when none is given. */
    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(5);

    /**
     * Validates every component.
     *
     * @throws IllegalArgumentException naming the bad value and the fix
     */
    public VaultSettings {
        if (address == null) {
            throw new IllegalArgumentException("vault address is required, such as https://vault.example.com:8200");
        }
        String scheme = address.getScheme() == null ? "" : address.getScheme().toLowerCase(Locale.ROOT);
        if (!address.isAbsolute() || address.getHost() == null || !(scheme.equals("https") || scheme.equals("http"))) {
            throw new IllegalArgumentException(
                    "vault address " + address + " is not an http(s) URL; write it as https://host:8200");
        }
        if (address.getRawUserInfo() != null || address.getRawQuery() != null || address.getRawFragment() != null) {
            throw new IllegalArgumentException(
                    "vault address must not carry user info, a query or a fragment; write it as https://host:8200");
        }
        if (scheme.equals("http") && !Cidr.isLoopbackHost(address.getHost())) {
            throw new IllegalArgumentException("vault address " + address
                    + " uses plain http to a host that is not loopback; tokens would cross the network unencrypted:"
                    + " use https");
        }
        if (namespace == null) {
            throw new IllegalArgumentException("namespace is required (use \"\" for none)");
        }
        requireBetween("connectTimeout", connectTimeout, Duration.ofMillis(100), Duration.ofMinutes(1));
        requireBetween("readTimeout", readTimeout, Duration.ofMillis(100), Duration.ofMinutes(5));
    }

    /** Settings for {@code address} with no namespace and the default timeouts. */
    public static VaultSettings of(String address) {
        return new VaultSettings(parse(address, "address"), "", DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT);
    }

    /**
     * Settings from the environment variables Vault's and OpenBao's own tools read:
     * {@code VAULT_ADDR} or else {@code BAO_ADDR}, and {@code VAULT_NAMESPACE} or else
     * {@code BAO_NAMESPACE}.
     *
     * @return empty when neither address variable is set (or both are blank)
     * @throws IllegalArgumentException if an address is set but unusable; the message names the variable
     */
    public static Optional<VaultSettings> fromEnvironment(Map<String, String> env) {
        String variable =
                nonBlank(env.get("VAULT_ADDR")) ? "VAULT_ADDR" : nonBlank(env.get("BAO_ADDR")) ? "BAO_ADDR" : null;
        if (variable == null) {
            return Optional.empty();
        }
        String namespace = nonBlank(env.get("VAULT_NAMESPACE"))
                ? env.get("VAULT_NAMESPACE")
                : nonBlank(env.get("BAO_NAMESPACE")) ? env.get("BAO_NAMESPACE") : "";
        try {
            return Optional.of(new VaultSettings(
                    parse(env.get(variable).trim(), variable),
                    namespace,
                    DEFAULT_CONNECT_TIMEOUT,
                    DEFAULT_READ_TIMEOUT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(variable + ": " + e.getMessage(), e);
        }
    }

    private static URI parse(String text, String name) {
        try {
            return new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(name + " '" + text + "' is not a URL; write it as https://host:8200", e);
        }
    }

    private static boolean nonBlank(String value) {
        return value != null && !value.isBlank();
    }

    /** {@code value} if it is within {@code [min, max]}; otherwise an exception naming {@code name}. */
    static Duration requireBetween(String name, Duration value, Duration min, Duration max) {
        if (value == null || value.compareTo(min) < 0 || value.compareTo(max) > 0) {
            throw new IllegalArgumentException(name + " must be between " + min + " and " + max + " but was " + value);
        }
        return value;
    }
}
