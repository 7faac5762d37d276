package dev.mcpsecure.vault.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.mcpsecure.api.AccessToken;
import dev.mcpsecure.testkit.ManualClock;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What {@link IdentityTokenValidator} accepts from the vault, row by row. Keys and tokens are made
 * here; the vault's JWKS is a fixed document, since these are the answers a real vault would not
 * give.
 */
class IdentityTokenValidatorTest {

    static final String AUD = "https://api.example";
    static final Duration TTL = Duration.ofMinutes(2);
    static final Instant NOW = Instant.parse("2026-11-22T10:00:00Z");

    static final RSAKey RSA = generateRsa("rsa-1");
    static final RSAKey OTHER_RSA = generateRsa("rsa-1");
    static final ECKey EC = generateEc("ec-1");
    static final String JWKS = new JWKSet(List.of(RSA.toPublicJWK(), EC.toPublicJWK())).toString();

    final ManualClock clock = new ManualClock(NOW);
    final AtomicInteger fetches = new AtomicInteger();
    final IdentityTokenValidator validator = new IdentityTokenValidator(
            () -> {
                fetches.incrementAndGet();
                return JWKS.getBytes(StandardCharsets.UTF_8);
            },
            clock);

    static Stream<Arguments> refused() {
        return Stream.of(
                row("an unsigned token (alg none)", new PlainJWT(claims(c -> c)).serialize(), "not a signed JWT"),
                row(
                        "alg NONE in another case",
                        "eyJhbGciOiJOT05FIn0." + base64(claims(c -> c).toString()) + ".",
                        "not a signed JWT"),
                row(
                        "HS256 keyed with the RSA public key",
                        hs256(),
                        "is signed with HS256, which is not among the allowed [ES256, ES384, ES512, RS256, RS384,"
                                + " RS512]"),
                row(
                        "a jku header",
                        sign(RSA, h -> h.jwkURL(URI.create("https://evil.example/jwks")), c -> c),
                        "jku, x5u, jwk or x5c"),
                row(
                        "an x5u header",
                        sign(RSA, h -> h.x509CertURL(URI.create("https://evil.example/c")), c -> c),
                        "jku, x5u, jwk or x5c"),
                row(
                        "an embedded jwk header",
                        sign(RSA, h -> h.jwk(OTHER_RSA.toPublicJWK()), c -> c),
                        "jku, x5u, jwk or x5c"),
                row(
                        "an x5c header (a certificate chain of the signer's choosing)",
                        sign(RSA, h -> h.x509CertChain(List.of(Base64.encode(new byte[] {1, 2, 3}))), c -> c),
                        "jku, x5u, jwk or x5c"),
                row("a crit header", sign(RSA, h -> h.criticalParams(Set.of("exp")), c -> c), "critical header"),
                row("no kid", sign(RSA, h -> h.keyID(null), c -> c), "has no kid header"),
                row("an unknown kid", sign(RSA, h -> h.keyID("rsa-9"), c -> c), "does not list"),
                row("a kid with a path", sign(RSA, h -> h.keyID("../../keys/rsa-1"), c -> c), "does not list"),
                row("signed by another key under the same kid", sign(OTHER_RSA, h -> h, c -> c), "does not verify"),
                row("an EC kid on an RSA signature", sign(RSA, h -> h.keyID("ec-1"), c -> c), "could not be verified"),
                row(
                        "another audience",
                        sign(RSA, h -> h, c -> c.audience("https://other.example")),
                        "instead of exactly"),
                row(
                        "an audience array with us and another",
                        sign(RSA, h -> h, c -> c.audience(List.of(AUD, "https://x"))),
                        "instead of exactly"),
                row("no audience", sign(RSA, h -> h, c -> c.audience((String) null)), "instead of exactly"),
                row("no exp", sign(RSA, h -> h, c -> c.expirationTime(null)), "no exp"),
                row("expired", sign(RSA, h -> h, c -> c.issueTime(at(-300)).expirationTime(at(-1))), "expired"),
                row("living longer than the TTL", sign(RSA, h -> h, c -> c.expirationTime(at(121))), "lives 121 s"),
                row(
                        "no iat and exp too far ahead",
                        sign(RSA, h -> h, c -> c.issueTime(null).expirationTime(at(600))),
                        "lives 600 s"),
                row("a truncated token", truncate(sign(RSA, h -> h, c -> c)), "not a signed JWT"),
                row("garbage", "not.a.jwt", "not a signed JWT"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void isRefused(String why, String jwt, String message) {
        VaultFailure failure =
                catchThrowableOfType(VaultFailure.class, () -> validator.validate(jwt, AUD, TTL, "role-x"));

        assertThat(failure).as(why).isNotNull();
        assertThat(failure.kind()).isEqualTo(VaultFailure.Kind.INVALID_TOKEN);
        assertThat(failure.getMessage()).contains("role role-x").contains(message);
    }

    @Test
    void rs256AndEs256TokensForExactlyTheAudienceAreAccepted() {
        String rs = sign(RSA, h -> h, c -> c);
        String es = sign(EC, h -> h, c -> c);

        AccessToken fromRsa = validator.validate(rs, AUD, TTL, "r");
        AccessToken fromEc = validator.validate(es, AUD, TTL, "r");

        assertThat(fromRsa.value()).isEqualTo(rs);
        assertThat(fromRsa.audience()).isEqualTo(AUD);
        assertThat(fromRsa.expiresAt()).isEqualTo(NOW.plusSeconds(120));
        assertThat(fromEc.expiresAt()).isEqualTo(NOW.plusSeconds(120));
    }

    @Test
    void unknownKeyIdsRefetchTheJwksAtMostOncePerInterval() {
        validator.validate(sign(RSA, h -> h, c -> c), AUD, TTL, "r");
        assertThat(fetches).hasValue(1);
        String unknown = sign(RSA, h -> h.keyID("rotated"), c -> c);

        catchThrowableOfType(VaultFailure.class, () -> validator.validate(unknown, AUD, TTL, "r"));
        catchThrowableOfType(VaultFailure.class, () -> validator.validate(unknown, AUD, TTL, "r"));
        assertThat(fetches)
                .as("first unknown kid fetches; the second, 0 s later, does not")
                .hasValue(1);

        clock.advance(IdentityTokenValidator.MIN_REFRESH);
        catchThrowableOfType(VaultFailure.class, () -> validator.validate(unknown, AUD, TTL, "r"));
        assertThat(fetches).hasValue(2);
    }

    static Arguments row(String why, String jwt, String message) {
        return Arguments.of(why, jwt, message);
    }

    static JWTClaimsSet claims(UnaryOperator<JWTClaimsSet.Builder> change) {
        return change.apply(new JWTClaimsSet.Builder()
                        .issuer("https://vault.example/v1/identity/oidc")
                        .subject("entity-1")
                        .audience(AUD)
                        .issueTime(at(0))
                        .expirationTime(at(120)))
                .build();
    }

    static String sign(
            com.nimbusds.jose.jwk.JWK key,
            UnaryOperator<JWSHeader.Builder> header,
            UnaryOperator<JWTClaimsSet.Builder> change) {
        try {
            JWSAlgorithm alg = key instanceof RSAKey ? JWSAlgorithm.RS256 : JWSAlgorithm.ES256;
            JWSSigner signer = key instanceof RSAKey rsa ? new RSASSASigner(rsa) : new ECDSASigner((ECKey) key);
            SignedJWT jwt = new SignedJWT(
                    header.apply(new JWSHeader.Builder(alg)
                                    .keyID(key.getKeyID())
                                    .type(JOSEObjectType.JWT))
                            .build(),
                    claims(change));
            jwt.sign(signer);
            return jwt.serialize();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String hs256() {
        try {
            SignedJWT jwt = new SignedJWT(
                    new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("rsa-1").build(), claims(c -> c));
            jwt.sign(new MACSigner(RSA.toPublicJWK().toRSAPublicKey().getEncoded()));
            return jwt.serialize();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String truncate(String jwt) {
        return jwt.substring(0, jwt.lastIndexOf('.') - 5);
    }

    static String base64(String text) {
        return Base64URL.encode(text.getBytes(StandardCharsets.UTF_8)).toString();
    }

    static Date at(long secondsFromNow) {
        return Date.from(NOW.plusSeconds(secondsFromNow));
    }

    static RSAKey generateRsa(String kid) {
        try {
            return new RSAKeyGenerator(2048).keyID(kid).generate();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static ECKey generateEc(String kid) {
        try {
            return new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
