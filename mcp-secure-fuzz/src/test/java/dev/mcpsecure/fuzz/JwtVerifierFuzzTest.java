package dev.mcpsecure.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.VerifiedToken;
import dev.mcpsecure.http.JwtTokenVerifier;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;

/**
 * Bearer-token verification on hostile tokens: raw text, and tokens the fuzzer assembles from
 * chosen headers and claims, signed with the server's trusted keys, an attacker's key, a shared
 * secret or not at all.
 *
 * <p>Property: nothing unsigned or mis-audienced is ever accepted. An accepted token verifies
 * (checked here with Nimbus directly) against one of the trusted keys with RS256 or ES256, names
 * the exact issuer, lists the resource in {@code aud}, has a subject, is within its time window
 * (30 s skew) and lifetime cap. Denials are {@code TOKEN_INVALID}/{@code TOKEN_MISSING}; any other
 * exception is a finding.
 */
class JwtVerifierFuzzTest {

    private static final String ISSUER = "https://idp.example";
    private static final String RESOURCE = "https://mcp.example/mcp";
    private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");
    private static final Duration SKEW = Duration.ofSeconds(30);
    private static final Duration MAX_LIFETIME = Duration.ofHours(1);
    private static final RSAKey RSA = generateRsa("rsa-1");
    private static final ECKey EC = generateEc("ec-1");
    private static final ECKey ATTACKER = generateEc("ec-1");
    private static final JwtTokenVerifier VERIFIER = JwtTokenVerifier.builder(ISSUER, RESOURCE)
            .keys(new JWKSet(List.of(RSA.toPublicJWK(), EC.toPublicJWK())).toString())
            .clock(Clock.fixed(NOW, ZoneOffset.UTC))
            .clockSkew(SKEW)
            .maxLifetime(MAX_LIFETIME)
            .cacheSize(0)
            .build();
    private static final String[] ISSUERS = {ISSUER, ISSUER + "/", "https://evil.example", "", "HTTPS://IDP.EXAMPLE"};
    private static final String[] AUDIENCES = {RESOURCE, RESOURCE + "/", "https://other.example/mcp", "", "*"};
    private static final JWSAlgorithm[] ALGORITHMS = {
        JWSAlgorithm.RS256, JWSAlgorithm.ES256, JWSAlgorithm.HS256, JWSAlgorithm.PS256, JWSAlgorithm.ES384
    };

    @FuzzTest(maxDuration = "10m")
    void acceptsOnlyTrustedSignaturesForThisResource(FuzzedDataProvider data) throws Exception {
        String token = data.consumeBoolean() ? assembled(data) : data.consumeRemainingAsString();
        VerifiedToken verified;
        try {
            verified = VERIFIER.verify(token);
        } catch (PolicyViolationException e) {
            assertThat(e.decision().reason()).isIn(ReasonCode.TOKEN_INVALID, ReasonCode.TOKEN_MISSING);
            return;
        }
        SignedJWT jwt = SignedJWT.parse(token);
        JWSAlgorithm algorithm = jwt.getHeader().getAlgorithm();
        assertThat(algorithm).isIn(JWSAlgorithm.RS256, JWSAlgorithm.ES256);
        boolean trusted = algorithm.equals(JWSAlgorithm.RS256)
                ? jwt.verify(new RSASSAVerifier(RSA.toRSAPublicKey()))
                : jwt.verify(new ECDSAVerifier(EC.toECPublicKey()));
        assertThat(trusted).as("the signature is by a trusted key").isTrue();
        JWTClaimsSet claims = jwt.getJWTClaimsSet();
        assertThat(claims.getIssuer()).isEqualTo(ISSUER);
        assertThat(claims.getAudience()).contains(RESOURCE);
        assertThat(claims.getSubject()).isNotNull().isEqualTo(verified.subject());
        assertThat(claims.getExpirationTime()).isNotNull();
        assertThat(claims.getExpirationTime().toInstant()).isAfter(NOW.minus(SKEW));
        if (claims.getNotBeforeTime() != null) {
            assertThat(claims.getNotBeforeTime().toInstant()).isBeforeOrEqualTo(NOW.plus(SKEW));
        }
        if (claims.getIssueTime() != null) {
            assertThat(Duration.between(
                            claims.getIssueTime().toInstant(),
                            claims.getExpirationTime().toInstant()))
                    .isLessThanOrEqualTo(MAX_LIFETIME);
        }
    }

    /** A token from chosen parts: header, claims, and how (whether) it is signed. */
    private static String assembled(FuzzedDataProvider data) throws JOSEException {
        JWSAlgorithm algorithm = data.pickValue(ALGORITHMS);
        JWSHeader.Builder header = new JWSHeader.Builder(algorithm);
        if (data.consumeBoolean()) {
            header.keyID(data.pickValue(new String[] {"rsa-1", "ec-1", "other", "../../etc/passwd"}));
        }
        if (data.consumeBoolean()) {
            header.type(data.consumeBoolean() ? JOSEObjectType.JWT : new JOSEObjectType(data.consumeString(10)));
        }
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder();
        if (data.consumeBoolean()) {
            claims.issuer(data.consumeBoolean() ? data.pickValue(ISSUERS) : data.consumeString(40));
        }
        int audiences = data.consumeInt(0, 3);
        if (audiences == 1) {
            claims.audience(data.pickValue(AUDIENCES));
        } else if (audiences > 1) {
            claims.audience(List.of(data.pickValue(AUDIENCES), data.pickValue(AUDIENCES)));
        }
        if (data.consumeBoolean()) {
            claims.subject(data.consumeString(20));
        }
        if (data.consumeBoolean()) {
            claims.expirationTime(Date.from(NOW.plusSeconds(data.consumeLong(-10_000, 10_000))));
        }
        if (data.consumeBoolean()) {
            claims.notBeforeTime(Date.from(NOW.plusSeconds(data.consumeLong(-10_000, 10_000))));
        }
        if (data.consumeBoolean()) {
            claims.issueTime(Date.from(NOW.plusSeconds(data.consumeLong(-10_000, 10_000))));
        }
        SignedJWT jwt = new SignedJWT(header.build(), claims.build());
        int signing = data.consumeInt(0, 4);
        if (signing == 0 && algorithm.equals(JWSAlgorithm.RS256)) {
            jwt.sign(new RSASSASigner(RSA));
        } else if (signing == 1 && algorithm.equals(JWSAlgorithm.ES256)) {
            jwt.sign(new ECDSASigner(EC));
        } else if (signing == 2 && algorithm.equals(JWSAlgorithm.ES256)) {
            jwt.sign(new ECDSASigner(ATTACKER));
        } else if (signing == 3 && algorithm.equals(JWSAlgorithm.HS256)) {
            jwt.sign(new MACSigner(RSA.toRSAPublicKey().getEncoded()));
        } else {
            return header.build().toBase64URL() + "."
                    + Base64URL.encode(claims.build().toString()) + "." + Base64URL.encode(data.consumeBytes(64));
        }
        return jwt.serialize();
    }

    private static RSAKey generateRsa(String kid) {
        try {
            return new RSAKeyGenerator(2048).keyID(kid).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ECKey generateEc(String kid) {
        try {
            return new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }
}
