package dev.mcpsecure.core.internal.pinning;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Hostile detached signatures over a lockfile: each refused with a reason; the honest one accepted. */
class LockSignaturesTest {

    private static final byte[] LOCKFILE = "{\"version\":1}\n".getBytes(StandardCharsets.UTF_8);

    private final ECKey key = generate("lock");
    private final JWKSet policyKeys = new JWKSet(key.toPublicJWK());

    private static ECKey generate(String kid) {
        try {
            return new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String signed(JWSHeader header, byte[] payload, ECKey with) throws Exception {
        JWSObject jws = new JWSObject(header, new Payload(payload));
        jws.sign(new ECDSASigner(with));
        return jws.serialize(true);
    }

    @Test
    void theHonestSignatureVerifies() throws Exception {
        String jws =
                signed(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("lock").build(), LOCKFILE, key);

        assertThat(LockSignatures.problem(LOCKFILE, jws, policyKeys, "sig")).isNull();
    }

    @Test
    void hostileSignaturesAreRefused() throws Exception {
        String otherBytes = signed(
                new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("lock").build(),
                "{\"version\":2}\n".getBytes(StandardCharsets.UTF_8),
                key);
        assertThat(LockSignatures.problem(LOCKFILE, otherBytes, policyKeys, "sig"))
                .as("a signature over other bytes")
                .contains("does not verify");

        String unsigned = Base64URL.encode("{\"alg\":\"none\"}") + "..";
        assertThat(LockSignatures.problem(LOCKFILE, unsigned, policyKeys, "sig"))
                .as("alg none")
                .isNotNull();

        JWSObject hmac = new JWSObject(
                new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("lock").build(), new Payload(LOCKFILE));
        hmac.sign(new MACSigner(new byte[32]));
        assertThat(LockSignatures.problem(LOCKFILE, hmac.serialize(true), policyKeys, "sig"))
                .as("a shared-secret algorithm")
                .contains("which is not among the allowed [ES256, PS256, RS256]");

        ECKey attacker = generate("lock");
        String embedded = signed(
                new JWSHeader.Builder(JWSAlgorithm.ES256)
                        .keyID("lock")
                        .jwk(attacker.toPublicJWK())
                        .build(),
                LOCKFILE,
                attacker);
        assertThat(LockSignatures.problem(LOCKFILE, embedded, policyKeys, "sig"))
                .as("a key carried in the header")
                .contains("names its own key source (jku, x5u, jwk or x5c)");

        String jku = signed(
                new JWSHeader.Builder(JWSAlgorithm.ES256)
                        .keyID("lock")
                        .jwkURL(URI.create("https://attacker.example/jwks.json"))
                        .build(),
                LOCKFILE,
                attacker);
        assertThat(LockSignatures.problem(LOCKFILE, jku, policyKeys, "sig"))
                .as("jku")
                .contains("names its own key source");

        String crit = signed(
                new JWSHeader.Builder(JWSAlgorithm.ES256)
                        .keyID("lock")
                        .criticalParams(Set.of("exp"))
                        .customParam("exp", 1)
                        .build(),
                LOCKFILE,
                key);
        assertThat(LockSignatures.problem(LOCKFILE, crit, policyKeys, "sig"))
                .as("crit")
                .contains("has critical header parameters [exp]");

        String unknownKid =
                signed(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("other").build(), LOCKFILE, attacker);
        assertThat(LockSignatures.problem(LOCKFILE, unknownKid, policyKeys, "sig"))
                .as("a kid the policy does not name")
                .contains("not among the policy's keys");

        String byAttacker =
                signed(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("lock").build(), LOCKFILE, attacker);
        assertThat(LockSignatures.problem(LOCKFILE, byAttacker, policyKeys, "sig"))
                .as("the policy's kid, another key")
                .contains("does not verify");

        assertThat(LockSignatures.problem(LOCKFILE, "garbage", policyKeys, "sig"))
                .as("not a JWS")
                .contains("is not a compact detached JWS");
    }
}
