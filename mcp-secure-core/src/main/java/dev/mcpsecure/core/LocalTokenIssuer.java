package dev.mcpsecure.core;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.mcpsecure.api.AccessToken;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.TokenAudience;
import dev.mcpsecure.api.TokenPolicy;
import dev.mcpsecure.api.TokenSource;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A development token issuer inside the server: the default {@link TokenSource} when no vault is
 * configured. It signs tokens with an ES256 key generated in memory at creation (never written
 * anywhere), with the claims vault identity tokens carry: {@code iss}, {@code sub} (the server's
 * name), {@code aud} (exactly the audience asked for), {@code iat} and {@code exp} (the audience's
 * TTL from the policy, itself capped by {@code tokens.maxTtl}). An API that should accept them
 * trusts {@link #jwksJson()} and {@link #issuer()}.
 *
 * <p>Creating one logs a warning: the key dies with the process and nothing revokes a token, so
 * this is for development and demos; production servers use the vault module's
 * {@code VaultTokenSource}.
 *
 * <p>Thread-safe. A token is reused for its audience until two thirds of its lifetime has passed.
 */
public final class LocalTokenIssuer implements TokenSource {

    private static final Logger LOG = LoggerFactory.getLogger(LocalTokenIssuer.class);

    private final TokenPolicy tokens;
    private final String issuer;
    private final String subject;
    private final ECKey key;
    private final ECDSASigner signer;
    private final Clock clock;
    private final Map<String, Minted> cache = new ConcurrentHashMap<>();

    private record Minted(AccessToken token, Instant renewAt) {}

    private LocalTokenIssuer(SecurityPolicy policy, Clock clock) {
        this.tokens = policy.tokens();
        this.subject = policy.server().name();
        this.issuer = "urn:mcp-secure:local-issuer:" + subject;
        this.clock = clock;
        try {
            this.key = new ECKeyGenerator(Curve.P_256)
                    .keyID(UUID.randomUUID().toString())
                    .algorithm(JWSAlgorithm.ES256)
                    .generate();
            this.signer = new ECDSASigner(key);
        } catch (JOSEException e) {
            throw new IllegalStateException("this JVM cannot generate a P-256 key for the local token issuer", e);
        }
    }

    /**
     * An issuer for the audiences of {@code policy}; logs that it is a development issuer.
     *
     * @throws IllegalStateException if the JVM cannot make a P-256 key
     */
    public static LocalTokenIssuer create(SecurityPolicy policy) {
        return create(policy, Clock.systemUTC());
    }

    static LocalTokenIssuer create(SecurityPolicy policy, Clock clock) {
        Objects.requireNonNull(policy, "policy");
        LocalTokenIssuer issuer = new LocalTokenIssuer(policy, clock);
        LOG.warn(
                "server {} uses the local development token issuer ({}): its key lives only in this process and its"
                        + " tokens cannot be revoked; configure a vault (VAULT_ADDR or BAO_ADDR) for production",
                issuer.subject,
                issuer.issuer);
        return issuer;
    }

    /** The {@code iss} claim of every token: {@code urn:mcp-secure:local-issuer:<server name>}. */
    public String issuer() {
        return issuer;
    }

    /** The public signing key as a JWKS document ({@code {"keys":[...]}}); no private part. */
    public String jwksJson() {
        return new JWKSet(key.toPublicJWK()).toString();
    }

    /**
     * A token for {@code audience}: a fresh one, or the cached one while less than two thirds of its
     * lifetime has passed.
     *
     * @throws PolicyViolationException {@link ReasonCode#TOKEN_AUDIENCE_UNKNOWN} for an audience the
     *     policy does not list
     */
    @Override
    public AccessToken token(String audience) {
        TokenAudience minting = audience == null ? null : tokens.audiences().get(audience);
        if (minting == null) {
            throw new PolicyViolationException(Decision.deny(
                    ReasonCode.TOKEN_AUDIENCE_UNKNOWN,
                    "audience " + audience + " is not in tokens.audiences of this server's policy"));
        }
        Instant now = clock.instant();
        Minted cached = cache.get(audience);
        if (cached != null && now.isBefore(cached.renewAt())) {
            return cached.token();
        }
        return cache.compute(audience, (aud, current) -> {
                    Instant at = clock.instant();
                    return current != null && at.isBefore(current.renewAt()) ? current : mint(aud, minting, at);
                })
                .token();
    }

    private Minted mint(String audience, TokenAudience minting, Instant now) {
        Instant issuedAt = now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        Instant expiresAt = issuedAt.plus(minting.ttl());
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(issuer)
                .subject(subject)
                .audience(audience)
                .issueTime(Date.from(issuedAt))
                .expirationTime(Date.from(expiresAt))
                .build();
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.ES256)
                        .keyID(key.getKeyID())
                        .type(JOSEObjectType.JWT)
                        .build(),
                claims);
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException("the local token issuer could not sign a token", e);
        }
        Instant renewAt = issuedAt.plus(minting.ttl().multipliedBy(2).dividedBy(3));
        return new Minted(new AccessToken(jwt.serialize(), audience, expiresAt), renewAt);
    }

    /** The issuer and key id; never key material. */
    @Override
    public String toString() {
        return "LocalTokenIssuer[issuer=" + issuer + ", kid=" + key.getKeyID() + "]";
    }
}
