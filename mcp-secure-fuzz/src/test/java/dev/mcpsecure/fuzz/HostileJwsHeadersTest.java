package dev.mcpsecure.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.core.internal.pinning.LockSignatures;
import dev.mcpsecure.http.JwtTokenVerifier;
import dev.mcpsecure.vault.internal.IdentityTokenValidator;
import dev.mcpsecure.vault.internal.VaultFailure;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One table of hostile JWS headers against every JWS check mcp-secure has: the HTTP module's
 * bearer verifier ({@link JwtTokenVerifier}), the vault's identity-token check ({@link
 * IdentityTokenValidator}) and lockfile signatures ({@link LockSignatures}). Each row is refused
 * by all three with the same reason, since all three use core's {@code JwsHeaderRules}; the
 * honest header is accepted by all three, so a refusal is the header's doing. (Here, not in one
 * of the three modules, because this test-only module sees all three on its class path.)
 */
class HostileJwsHeadersTest {

    static final String ISSUER = "https://idp.example";
    static final String AUDIENCE = "https://mcp.example/mcp";
    static final Instant NOW = Instant.parse("2026-12-02T12:00:00Z");
    static final RSAKey KEY = generate("rsa-1");
    static final RSAKey ATTACKER = generate("rsa-1");
    static final String JWKS = new JWKSet(KEY.toPublicJWK()).toString();
    static final String KEY_SOURCE = "names its own key source (jku, x5u, jwk or x5c), which is never trusted";
    static final byte[] LOCKFILE = "{\"version\":1}\n".getBytes(StandardCharsets.UTF_8);

    final JwtTokenVerifier bearer = JwtTokenVerifier.builder(ISSUER, AUDIENCE)
            .keys(JWKS)
            .clock(Clock.fixed(NOW, ZoneOffset.UTC))
            .cacheSize(0)
            .build();
    final IdentityTokenValidator vault =
            new IdentityTokenValidator(() -> JWKS.getBytes(StandardCharsets.UTF_8), Clock.fixed(NOW, ZoneOffset.UTC));

    static Stream<Arguments> hostile() {
        return Stream.of(
                row(
                        "x5c: a certificate chain of the signer's choosing",
                        h -> h.x509CertChain(List.of(Base64.encode(new byte[] {1, 2, 3}))),
                        KEY_SOURCE),
                row(
                        "jku: keys at the attacker's URL",
                        h -> h.jwkURL(URI.create("https://evil.example/jwks")),
                        KEY_SOURCE),
                row(
                        "x5u: a certificate at the attacker's URL",
                        h -> h.x509CertURL(URI.create("https://evil.example/cert")),
                        KEY_SOURCE),
                row("jwk: the attacker's key embedded", h -> h.jwk(ATTACKER.toPublicJWK()), KEY_SOURCE),
                row(
                        "crit: an extension we do not understand",
                        h -> h.criticalParams(Set.of("exp")),
                        "has critical header parameters [exp]"),
                row(
                        "HS256 keyed with the public key (algorithm confusion)",
                        h -> new JWSHeader.Builder(JWSAlgorithm.HS256)
                                .keyID(KEY.getKeyID())
                                .type(JOSEObjectType.JWT),
                        "is signed with HS256, which is not among the allowed"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostile")
    void theBearerVerifierTheVaultAndLockfileSignaturesRefuseItAlike(
            String why, UnaryOperator<JWSHeader.Builder> header, String reason) {
        JWSHeader hostile = header(header);
        String token = token(hostile);

        PolicyViolationException byBearer =
                catchThrowableOfType(PolicyViolationException.class, () -> bearer.verify(token));
        VaultFailure byVault = catchThrowableOfType(
                VaultFailure.class, () -> vault.validate(token, AUDIENCE, Duration.ofMinutes(2), "role-x"));
        String byLockfile = LockSignatures.problem(LOCKFILE, detached(hostile), new JWKSet(KEY.toPublicJWK()), "sig");

        assertThat(byBearer).as("bearer: " + why).isNotNull();
        assertThat(byBearer.decision().reason()).isEqualTo(ReasonCode.TOKEN_INVALID);
        assertThat(byBearer.getMessage()).contains("the token " + reason);
        assertThat(byVault).as("vault: " + why).isNotNull();
        assertThat(byVault.kind()).isEqualTo(VaultFailure.Kind.INVALID_TOKEN);
        assertThat(byVault.getMessage()).contains("the identity token from role role-x " + reason);
        assertThat(byLockfile).as("lockfile signature: " + why).isNotNull().startsWith("sig " + reason);
    }

    @Test
    void anUnsignedTokenIsRefusedByAll() {
        String none = Base64URL.encode("{\"alg\":\"none\",\"kid\":\"rsa-1\"}") + "."
                + Base64URL.encode(claims().toString()) + ".";

        PolicyViolationException byBearer =
                catchThrowableOfType(PolicyViolationException.class, () -> bearer.verify(none));
        VaultFailure byVault = catchThrowableOfType(
                VaultFailure.class, () -> vault.validate(none, AUDIENCE, Duration.ofMinutes(2), "role-x"));
        String byLockfile = LockSignatures.problem(
                LOCKFILE,
                Base64URL.encode("{\"alg\":\"none\",\"kid\":\"rsa-1\"}") + "..",
                new JWKSet(KEY.toPublicJWK()),
                "sig");

        assertThat(byBearer.decision().reason()).isEqualTo(ReasonCode.TOKEN_INVALID);
        assertThat(byBearer.getMessage()).contains("the token is not a signed JWT");
        assertThat(byVault.kind()).isEqualTo(VaultFailure.Kind.INVALID_TOKEN);
        assertThat(byVault.getMessage()).contains("the identity token from role role-x is not a signed JWT");
        assertThat(byLockfile).isNotNull().startsWith("sig is not a compact detached JWS");
    }

    @Test
    void theHonestHeaderIsAcceptedByAll() {
        JWSHeader honest = header(h -> h);
        String token = token(honest);

        assertThat(bearer.verify(token).subject()).isEqualTo("user-1");
        assertThat(vault.validate(token, AUDIENCE, Duration.ofMinutes(2), "role-x")
                        .expiresAt())
                .isEqualTo(NOW.plusSeconds(60));
        assertThat(LockSignatures.problem(LOCKFILE, detached(honest), new JWKSet(KEY.toPublicJWK()), "sig"))
                .isNull();
    }

    static Arguments row(String why, UnaryOperator<JWSHeader.Builder> header, String reason) {
        return Arguments.of(why, header, reason);
    }

    /** An RS256 header naming the trusted key, changed by {@code change}. */
    static JWSHeader header(UnaryOperator<JWSHeader.Builder> change) {
        return change.apply(new JWSHeader.Builder(JWSAlgorithm.RS256)
                        .keyID(KEY.getKeyID())
                        .type(JOSEObjectType.JWT))
                .build();
    }

    static JWTClaimsSet claims() {
        return new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .subject("user-1")
                .audience(AUDIENCE)
                .issueTime(Date.from(NOW))
                .expirationTime(Date.from(NOW.plusSeconds(60)))
                .build();
    }

    /** A token with {@code header}, signed by the trusted key (or, for HS256, keyed with its public part). */
    static String token(JWSHeader header) {
        try {
            SignedJWT jwt = new SignedJWT(header, claims());
            jwt.sign(signer(header));
            return jwt.serialize();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A detached signature with {@code header} over {@link #LOCKFILE}, signed as {@link #token}. */
    static String detached(JWSHeader header) {
        try {
            JWSObject jws = new JWSObject(header, new Payload(LOCKFILE));
            jws.sign(signer(header));
            return jws.serialize(true);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static JWSSigner signer(JWSHeader header) throws Exception {
        return header.getAlgorithm().equals(JWSAlgorithm.HS256)
                ? new MACSigner(KEY.toRSAPublicKey().getEncoded())
                : new RSASSASigner(KEY);
    }

    static RSAKey generate(String kid) {
        try {
            return new RSAKeyGenerator(2048).keyID(kid).generate();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
