package dev.mcpsecure.http;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Keys and tokens made in the test, as an authorization server would make them: RS256, ES256 and
 * EdDSA (Ed25519 signed with the JDK, since Nimbus needs Tink for it).
 */
final class Tokens {

    static final String ISSUER = "https://idp.test";
    static final String RESOURCE = "https://mcp.test/mcp";

    static final RSAKey RSA = rsa("rsa-1");
    static final RSAKey ATTACKER_RSA = rsa("rsa-1");
    static final ECKey EC = ec("ec-1");
    static final KeyPair ED = ed25519();
    static final OctetKeyPair ED_JWK = new OctetKeyPair.Builder(
                    Curve.Ed25519, Base64URL.encode(rawEd25519(ED.getPublic().getEncoded())))
            .keyID("ed-1")
            .build();
    static final String JWKS = new JWKSet(List.of(RSA.toPublicJWK(), EC.toPublicJWK(), ED_JWK)).toString();

    private Tokens() {}

    static JWTClaimsSet.Builder claims() {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .subject("user-42")
                .audience(RESOURCE)
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(300)))
                .claim("client_id", "client-7");
    }

    static String rs256(UnaryOperator<JWSHeader.Builder> header, UnaryOperator<JWTClaimsSet.Builder> claims) {
        return sign(RSA, JWSAlgorithm.RS256, header, claims);
    }

    static String rs256(UnaryOperator<JWTClaimsSet.Builder> claims) {
        return rs256(h -> h, claims);
    }

    static String sign(
            com.nimbusds.jose.jwk.JWK key,
            JWSAlgorithm alg,
            UnaryOperator<JWSHeader.Builder> header,
            UnaryOperator<JWTClaimsSet.Builder> claims) {
        try {
            SignedJWT jwt = new SignedJWT(
                    header.apply(new JWSHeader.Builder(alg)
                                    .keyID(key.getKeyID())
                                    .type(JOSEObjectType.JWT))
                            .build(),
                    claims.apply(claims()).build());
            jwt.sign(key instanceof RSAKey rsa ? new RSASSASigner(rsa) : new ECDSASigner((ECKey) key));
            return jwt.serialize();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A compact JWS with the given header JSON, signed with Ed25519 over the standard claims. */
    static String ed25519(String headerJson, UnaryOperator<JWTClaimsSet.Builder> claims) {
        try {
            String input = Base64URL.encode(headerJson.getBytes(StandardCharsets.UTF_8)) + "."
                    + Base64URL.encode(claims.apply(claims()).build().toString().getBytes(StandardCharsets.UTF_8));
            Signature signature = Signature.getInstance("Ed25519");
            signature.initSign(ED.getPrivate());
            signature.update(input.getBytes(StandardCharsets.US_ASCII));
            return input + "." + Base64URL.encode(signature.sign());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Header and payload as given, with {@code signature} as the third part. */
    static String raw(String headerJson, String payloadJson, String signature) {
        return Base64URL.encode(headerJson.getBytes(StandardCharsets.UTF_8)) + "."
                + Base64URL.encode(payloadJson.getBytes(StandardCharsets.UTF_8)) + "." + signature;
    }

    static RSAKey rsa(String kid) {
        try {
            return new RSAKeyGenerator(2048).keyID(kid).generate();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static ECKey ec(String kid) {
        try {
            return new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static KeyPair ed25519() {
        try {
            return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] rawEd25519(byte[] x509) {
        return Arrays.copyOfRange(x509, x509.length - 32, x509.length);
    }
}
