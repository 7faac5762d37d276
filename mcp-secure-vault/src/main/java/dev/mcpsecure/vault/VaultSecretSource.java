package dev.mcpsecure.vault;

import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.Secret;
import dev.mcpsecure.api.SecretLocation;
import dev.mcpsecure.api.SecretPolicy;
import dev.mcpsecure.api.SecretSource;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.vault.internal.SingleFlight;
import dev.mcpsecure.vault.internal.VaultFailure;
import io.github.jopenlibs.vault.json.JsonObject;
import io.github.jopenlibs.vault.json.JsonValue;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Secrets the policy's {@code secrets} section names, read on demand from the vault's KV version 2
 * store with the server's own login ({@code <mount>/data/<path>}, field {@code key}).
 *
 * <ul>
 *   <li>A name the policy does not list is refused ({@link ReasonCode#SECRET_UNKNOWN}) without
 *       asking the vault; so is a secret or field the vault does not have (the message names the
 *       location, never a value).
 *   <li>A value is kept in memory for {@link Builder#cacheTtl} (default 60 s), then read again;
 *       concurrent callers share one read. During an outage, callers get
 *       {@link ReasonCode#VAULT_UNAVAILABLE} within {@link Builder#timeout} once the cache expired.
 *   <li>Values are {@link Secret}s, whose {@code toString()} prints no value. Hand this source to
 *       {@code SecureMcpServer.Builder.secretSource}; tools then get it through {@code secrets()},
 *       which registers each value for redaction from tool results.
 * </ul>
 *
 * <p>Thread-safe.
 */
public final class VaultSecretSource implements SecretSource {

    private final VaultLogin login;
    private final SecretPolicy policy;
    private final Duration cacheTtl;
    private final Duration timeout;
    private final Clock clock;
    private final SingleFlight<Cached> flights;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    private record Cached(Secret secret, Instant until) {}

    private VaultSecretSource(Builder builder) {
        this.login = builder.login;
        this.policy = builder.policy.secrets();
        this.cacheTtl = builder.cacheTtl;
        this.timeout = builder.timeout;
        this.clock = login.clock();
        this.flights = new SingleFlight<>(login.fetcher());
    }

    /** A secret source with the default cache TTL and timeout. */
    public static VaultSecretSource create(VaultLogin login, SecurityPolicy policy) {
        return builder(login, policy).build();
    }

    /**
     * A builder for the server that {@code login} belongs to.
     *
     * @throws IllegalArgumentException if {@code policy} is for another server than {@code login}
     */
    public static Builder builder(VaultLogin login, SecurityPolicy policy) {
        return new Builder(login, policy);
    }

    /**
     * @throws PolicyViolationException {@link ReasonCode#SECRET_UNKNOWN} for a name not in the policy
     *     or a location the vault does not hold; {@link ReasonCode#VAULT_UNAVAILABLE} when the vault
     *     cannot be read within the timeout
     */
    @Override
    public Secret secret(String name) {
        SecretLocation location = name == null ? null : policy.secrets().get(name);
        if (location == null) {
            throw new PolicyViolationException(Decision.deny(
                    ReasonCode.SECRET_UNKNOWN,
                    "secret " + name + " is not in the secrets section of server "
                            + login.identity().name() + "'s policy"));
        }
        Cached cached = cache.get(name);
        if (cached != null && clock.instant().isBefore(cached.until())) {
            return cached.secret();
        }
        try {
            return SingleFlight.await(
                            flights.fetch(name, () -> read(name, location), fresh -> cache.put(name, fresh)), timeout)
                    .secret();
        } catch (VaultFailure failure) {
            if (failure.kind() == VaultFailure.Kind.NOT_FOUND) {
                throw new PolicyViolationException(Decision.deny(
                        ReasonCode.SECRET_UNKNOWN,
                        "secret " + name + ": the vault has no secret at " + location.mount() + "/" + location.path()));
            }
            throw failure.toViolation("secret " + name + " (" + location + ")");
        }
    }

    private Cached read(String name, SecretLocation location) {
        JsonObject data = login.read(location.mount() + "/data/" + location.path());
        JsonValue fields = data.get("data");
        JsonValue value =
                fields != null && fields.isObject() ? fields.asObject().get(location.key()) : null;
        if (value == null || !value.isString()) {
            throw new VaultFailure(
                    VaultFailure.Kind.NOT_FOUND,
                    "the secret at " + location.mount() + "/" + location.path() + " has no string field "
                            + location.key());
        }
        return new Cached(new Secret(name, value.asString()), clock.instant().plus(cacheTtl));
    }

    /** The server and secret names; never a value. */
    @Override
    public String toString() {
        return "VaultSecretSource[server=" + login.identity().name() + ", secrets="
                + policy.secrets().keySet() + "]";
    }

    /** Configures a {@link VaultSecretSource}. Not thread-safe. */
    public static final class Builder {
        private final VaultLogin login;
        private final SecurityPolicy policy;
        private Duration cacheTtl = Duration.ofSeconds(60);
        private Duration timeout;

        private Builder(VaultLogin login, SecurityPolicy policy) {
            this.login = Objects.requireNonNull(login, "login");
            this.policy = Objects.requireNonNull(policy, "policy");
            login.requireSameServer(policy);
            this.timeout = login.defaultWait();
        }

        /** How long a value is kept in memory: 0 (always read) to 10 min; default 60 s. */
        public Builder cacheTtl(Duration ttl) {
            this.cacheTtl = VaultSettings.requireBetween("cacheTtl", ttl, Duration.ZERO, Duration.ofMinutes(10));
            return this;
        }

        /** Longest a caller waits for a value that is not cached; 100 ms to 5 min. */
        public Builder timeout(Duration timeout) {
            this.timeout =
                    VaultSettings.requireBetween("timeout", timeout, Duration.ofMillis(100), Duration.ofMinutes(5));
            return this;
        }

        /** The secret source. */
        public VaultSecretSource build() {
            return new VaultSecretSource(this);
        }
    }
}
