package dev.mcpsecure.vault.internal;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.mcpsecure.api.AccessToken;
import dev.mcpsecure.core.internal.jwt.JwsHeaderRules;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Checks an identity token the vault minted before anyone uses it: signed by a key in the vault's
 * JWKS with an RS or ES algorithm, named by its {@code kid}; no header that points elsewhere for a
 * key ({@code jku}, {@code x5u}, {@code jwk}, {@code x5c}) and no {@code crit} (the {@link
 * JwsHeaderRules} bearer tokens and lockfile signatures share); {@code aud} exactly the audience
 * asked for, and an {@code exp} in the future no further than the audience's TTL (taken from the
 * token, since the vault may clamp it below the TTL it reports).
 *
 * <p>Thread-safe. The JWKS is fetched when a token names a key id not seen yet, at most once per
 * {@link #MIN_REFRESH} unless no keys are known.
 */
public final class IdentityTokenValidator {

    /** Shortest time between two JWKS fetches caused by unknown key ids. */
    public static final Duration MIN_REFRESH = Duration.ofSeconds(5);

    private static final JwsHeaderRules HEADER_RULES = JwsHeaderRules.accepting(Set.of(
                    JWSAlgorithm.RS256,
                    JWSAlgorithm.RS384,
                    JWSAlgorithm.RS512,
                    JWSAlgorithm.ES256,
                    JWSAlgorithm.ES384,
                    JWSAlgorithm.ES512))
            .requiringKeyId();
    private static final Duration SKEW = Duration.ofSeconds(5);

    private final Supplier<byte[]> jwksFetch;
    private final Clock clock;
    private volatile JWKSet keys = new JWKSet();
    private volatile Instant fetchedAt = Instant.MIN;

    /** Validates against the JWKS {@code jwksFetch} returns (it may throw {@link VaultFailure}). */
    public IdentityTokenValidator(Supplier<byte[]> jwksFetch, Clock clock) {
        this.jwksFetch = jwksFetch;
        this.clock = clock;
    }

    /**
     * @param role names the vault role in messages
     * @return the token, with the expiry it carries
     * @throws VaultFailure {@link VaultFailure.Kind#INVALID_TOKEN} naming the failed check
     */
    public AccessToken validate(String jwt, String audience, Duration maxLifetime, String role) {
        SignedJWT parsed;
        JWTClaimsSet claims;
        try {
            parsed = SignedJWT.parse(jwt);
            claims = parsed.getJWTClaimsSet();
        } catch (ParseException e) {
            throw invalid(role, "is not a signed JWT");
        }
        JWSHeader header = parsed.getHeader();
        Optional<JwsHeaderRules.Refusal> refusal = HEADER_RULES.refusal(header);
        if (refusal.isPresent()) {
            throw invalid(role, refusal.get().reason());
        }
        JWK key = key(header.getKeyID());
        if (key == null) {
            throw invalid(
                    role, "is signed with key id " + header.getKeyID() + ", which the vault's JWKS does not list");
        }
        try {
            if (!parsed.verify(verifier(key, role))) {
                throw invalid(role, "has a signature that does not verify against the vault's key " + key.getKeyID());
            }
        } catch (JOSEException e) {
            throw invalid(role, "could not be verified (" + e.getMessage() + ")");
        }
        List<String> audiences = claims.getAudience();
        if (!audiences.equals(List.of(audience))) {
            throw invalid(
                    role,
                    "names audience " + audiences + " instead of exactly [" + audience + "]; set the role's client_id"
                            + " to " + audience);
        }
        Date exp = claims.getExpirationTime();
        if (exp == null) {
            throw invalid(role, "has no exp claim");
        }
        Instant now = clock.instant();
        Instant expiresAt = exp.toInstant();
        if (!expiresAt.isAfter(now)) {
            throw invalid(role, "expired at " + expiresAt + " (now " + now + "); check the clocks");
        }
        Instant issuedAt =
                claims.getIssueTime() == null ? now : claims.getIssueTime().toInstant();
        Duration lifetime = Duration.between(issuedAt, expiresAt);
        if (lifetime.compareTo(maxLifetime) > 0
                || Duration.between(now, expiresAt).compareTo(maxLifetime.plus(SKEW)) > 0) {
            throw invalid(
                    role,
                    "lives " + lifetime.toSeconds() + " s but tokens for " + audience + " may live at most "
                            + maxLifetime.toSeconds() + " s; set the role's ttl to " + maxLifetime.toSeconds() + "s");
        }
        return new AccessToken(jwt, audience, expiresAt);
    }

    private JWK key(String kid) {
        if (kid == null) {
            return null;
        }
        JWK known = keys.getKeyByKeyId(kid);
        if (known != null) {
            return known;
        }
        synchronized (this) {
            known = keys.getKeyByKeyId(kid);
            Instant now = clock.instant();
            if (known == null && (keys.isEmpty() || !now.isBefore(fetchedAt.plus(MIN_REFRESH)))) {
                try {
                    keys = JWKSet.parse(new String(jwksFetch.get(), java.nio.charset.StandardCharsets.UTF_8));
                } catch (ParseException e) {
                    throw new VaultFailure(VaultFailure.Kind.INVALID_RESPONSE, "the vault's JWKS is not a JWK set");
                }
                fetchedAt = now;
                known = keys.getKeyByKeyId(kid);
            }
            return known;
        }
    }

    private static JWSVerifier verifier(JWK key, String role) throws JOSEException {
        if (key instanceof RSAKey rsa) {
            return new RSASSAVerifier(rsa.toRSAPublicKey());
        }
        if (key instanceof ECKey ec) {
            return new ECDSAVerifier(ec.toECPublicKey());
        }
        throw invalid(role, "is signed with a " + key.getKeyType() + " key, which is not supported (use RS or ES)");
    }

    private static VaultFailure invalid(String role, String why) {
        return new VaultFailure(VaultFailure.Kind.INVALID_TOKEN, "the identity token from role " + role + " " + why);
    }
}
