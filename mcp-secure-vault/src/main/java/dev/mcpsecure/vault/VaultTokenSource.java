package dev.mcpsecure.vault;

import dev.mcpsecure.api.AccessToken;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.TokenAudience;
import dev.mcpsecure.api.TokenPolicy;
import dev.mcpsecure.api.TokenSource;
import dev.mcpsecure.vault.internal.Backoff;
import dev.mcpsecure.vault.internal.IdentityTokenValidator;
import dev.mcpsecure.vault.internal.SingleFlight;
import dev.mcpsecure.vault.internal.VaultFailure;
import io.github.jopenlibs.vault.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tokens for the audiences of the server's token policy, minted by the vault's identity engine
 * ({@code identity/oidc/token/<role>}) with the server's own login.
 *
 * <ul>
 *   <li>An audience the policy does not list is refused ({@link ReasonCode#TOKEN_AUDIENCE_UNKNOWN})
 *       without any request to the vault.
 *   <li>Every minted token is validated before use against the vault's JWKS
 *       ({@code identity/oidc/.well-known/keys}): an RS/ES signature by a listed key, {@code aud}
 *       exactly the audience, and {@code exp - iat} within the audience's TTL. A token failing that
 *       is refused with {@link ReasonCode#TOKEN_INVALID} and a message naming the role to fix.
 *   <li>A token is reused until two thirds of its lifetime has passed; then the next call starts
 *       one background refresh and still gets the cached token. Concurrent callers share one mint
 *       request per audience. After a failed mint, background refreshes back off (1 s doubling to
 *       30 s, with jitter); a caller without a usable token always tries.
 *   <li>When the vault is down, the cached token is served until {@link Builder#safetyMargin} before
 *       it expires; after that callers get {@link ReasonCode#VAULT_UNAVAILABLE} within
 *       {@link Builder#timeout} (default: the connect plus read timeout of the vault settings).
 * </ul>
 *
 * <p>Thread-safe. A cached token costs one map lookup and a clock read.
 */
public final class VaultTokenSource implements TokenSource {

    private static final Logger LOG = LoggerFactory.getLogger(VaultTokenSource.class);

    private final VaultLogin login;
    private final TokenPolicy policy;
    private final Duration timeout;
    private final Duration safetyMargin;
    private final Clock clock;
    private final IdentityTokenValidator validator;
    private final SingleFlight<Cached> flights;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();
    /** Per audience after failed mints: no background refresh before this instant. */
    private final Map<String, Instant> quietUntil = new ConcurrentHashMap<>();
    /** Per audience: backoff of background refreshes; touched only by that audience's one flight. */
    private final Map<String, Backoff> refreshBackoff = new ConcurrentHashMap<>();

    /** A minted token and when to stop handing it out without a refresh. */
    private record Cached(AccessToken token, Instant refreshAt, Instant usableUntil) {}

    private VaultTokenSource(Builder builder) {
        this.login = builder.login;
        this.policy = builder.policy.tokens();
        this.timeout = builder.timeout;
        this.safetyMargin = builder.safetyMargin;
        this.clock = login.clock();
        this.validator = new IdentityTokenValidator(() -> login.readRaw("identity/oidc/.well-known/keys"), clock);
        this.flights = new SingleFlight<>(login.fetcher());
    }

    /** A token source with the default timeout and safety margin. */
    public static VaultTokenSource create(VaultLogin login, SecurityPolicy policy) {
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
     * @throws PolicyViolationException {@link ReasonCode#TOKEN_AUDIENCE_UNKNOWN} for an audience not in
     *     the policy (no vault request made); {@link ReasonCode#VAULT_UNAVAILABLE} when no usable token
     *     can be had within the timeout; {@link ReasonCode#TOKEN_INVALID} when the vault minted a
     *     token that fails validation
     */
    @Override
    public AccessToken token(String audience) {
        TokenAudience minting = audience == null ? null : policy.audiences().get(audience);
        if (minting == null) {
            throw new PolicyViolationException(Decision.deny(
                    ReasonCode.TOKEN_AUDIENCE_UNKNOWN,
                    "audience " + audience + " is not in tokens.audiences of server "
                            + login.identity().name()));
        }
        Cached cached = cache.get(audience);
        Instant now = clock.instant();
        if (cached != null && now.isBefore(cached.refreshAt())) {
            return cached.token();
        }
        if (cached != null && now.isBefore(cached.usableUntil())) {
            Instant quiet = quietUntil.get(audience);
            if (quiet == null || !now.isBefore(quiet)) {
                fetch(audience, minting); // refreshes in the background
            }
            return cached.token();
        }
        try {
            return SingleFlight.await(fetch(audience, minting), timeout).token();
        } catch (VaultFailure failure) {
            throw failure.toViolation("no token for audience " + audience);
        }
    }

    private CompletableFuture<Cached> fetch(String audience, TokenAudience minting) {
        return flights.fetch(audience, () -> mint(audience, minting), fresh -> cache.put(audience, fresh));
    }

    private Cached mint(String audience, TokenAudience minting) {
        try {
            JsonObject data = login.read("identity/oidc/token/" + minting.role());
            String jwt = data.getString("token", null);
            if (jwt == null || jwt.isEmpty()) {
                throw new VaultFailure(
                        VaultFailure.Kind.INVALID_RESPONSE,
                        "vault returned no token for identity role " + minting.role());
            }
            AccessToken token = validator.validate(jwt, audience, minting.ttl(), minting.role());
            Instant now = clock.instant();
            Duration left = Duration.between(now, token.expiresAt());
            Instant refreshAt = now.plus(left.multipliedBy(2).dividedBy(3));
            Instant usableUntil = token.expiresAt().minus(safetyMargin);
            refreshBackoff.remove(audience);
            quietUntil.remove(audience);
            LOG.debug(
                    "server {}: minted a token for audience {} (role {}, expires {})",
                    login.identity().name(),
                    audience,
                    minting.role(),
                    token.expiresAt());
            return new Cached(token, refreshAt, usableUntil.isBefore(refreshAt) ? refreshAt : usableUntil);
        } catch (VaultFailure failure) {
            Duration wait = refreshBackoff
                    .computeIfAbsent(audience, key -> new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30)))
                    .next();
            quietUntil.put(audience, clock.instant().plus(wait));
            LOG.warn(
                    "server {}: minting a token for audience {} failed: {}",
                    login.identity().name(),
                    audience,
                    failure.getMessage());
            throw failure;
        }
    }

    /** The server and audiences; never a token. */
    @Override
    public String toString() {
        return "VaultTokenSource[server=" + login.identity().name() + ", audiences="
                + policy.audiences().keySet() + "]";
    }

    /** Configures a {@link VaultTokenSource}. Not thread-safe. */
    public static final class Builder {
        private final VaultLogin login;
        private final SecurityPolicy policy;
        private Duration timeout;
        private Duration safetyMargin = Duration.ofSeconds(10);

        private Builder(VaultLogin login, SecurityPolicy policy) {
            this.login = Objects.requireNonNull(login, "login");
            this.policy = Objects.requireNonNull(policy, "policy");
            login.requireSameServer(policy);
            this.timeout = login.defaultWait();
        }

        /** Longest a caller waits for a token that is not cached; 100 ms to 5 min. */
        public Builder timeout(Duration timeout) {
            this.timeout =
                    VaultSettings.requireBetween("timeout", timeout, Duration.ofMillis(100), Duration.ofMinutes(5));
            return this;
        }

        /**
         * How long before its expiry a cached token stops being handed out while the vault cannot
         * mint a new one: 0 to 1 min, default 10 s. Callers must finish using a token within it.
         */
        public Builder safetyMargin(Duration margin) {
            this.safetyMargin =
                    VaultSettings.requireBetween("safetyMargin", margin, Duration.ZERO, Duration.ofMinutes(1));
            return this;
        }

        /** The token source. */
        public VaultTokenSource build() {
            return new VaultTokenSource(this);
        }
    }
}
