package dev.mcpsecure.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.VerifiedToken;
import dev.mcpsecure.testkit.LoopbackHttpServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * {@link JwtTokenVerifier} with keys from a JWKS URL on loopback: caching, the rate-limited
 * refresh on an unknown kid, outage tolerance, bounded timeouts, the verified-token cache, and
 * the builder's refusals. (The table of hostile tokens runs over HTTP in {@link
 * HostileTokensTest}.)
 */
class JwtTokenVerifierTest {

    static final String ISSUER = "https://idp.test";
    static final String RESOURCE = "https://mcp.test/mcp";
    static final RSAKey KEY = rsa("k1");
    static final RSAKey ROTATED = rsa("k2");

    @Test
    void keysAreFetchedOnceCachedAndAnUnknownKidRefreshesAtMostOncePerInterval() throws Exception {
        AtomicReference<String> jwks = new AtomicReference<>(new JWKSet(KEY.toPublicJWK()).toString());
        try (LoopbackHttpServer idp =
                LoopbackHttpServer.start().route("/jwks", request -> LoopbackHttpServer.Reply.json(jwks.get()))) {
            JwtTokenVerifier verifier = verifier(idp.port(), Duration.ofSeconds(2));

            for (int i = 0; i < 5; i++) {
                assertThat(verifier.verify(token(KEY, "user-" + i)).subject()).isEqualTo("user-" + i);
            }
            assertThat(idp.received()).hasSize(1);

            jwks.set(new JWKSet(List.of(KEY.toPublicJWK(), ROTATED.toPublicJWK())).toString());
            assertThat(verifier.verify(token(ROTATED, "after-rotation")).subject())
                    .isEqualTo("after-rotation");
            assertThat(idp.received()).as("an unknown kid refreshes the JWKS").hasSize(2);

            for (int i = 0; i < 5; i++) {
                String unknown = token(rsa("k-unknown-" + i), "x");
                catchThrowableOfType(PolicyViolationException.class, () -> verifier.verify(unknown));
            }
            assertThat(idp.received())
                    .as("refreshes are rate limited (one per 30 s)")
                    .hasSize(2);
        }
    }

    @Test
    void cachedKeysKeepWorkingWhileTheJwksUrlIsDown() throws Exception {
        JwtTokenVerifier verifier;
        try (LoopbackHttpServer idp = LoopbackHttpServer.start()
                .route("/jwks", request -> LoopbackHttpServer.Reply.json(new JWKSet(KEY.toPublicJWK()).toString()))) {
            verifier = verifier(idp.port(), Duration.ofSeconds(2));
            verifier.verify(token(KEY, "before"));
        }
        assertThat(verifier.verify(token(KEY, "during-outage")).subject()).isEqualTo("during-outage");
    }

    @Test
    void aJwksUrlThatNeverAnswersFailsWithinTheTimeout() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                while (!silent.isClosed()) {
                    try {
                        Socket accepted = silent.accept();
                        accepted.getInputStream(); // hold it open, never answer
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            JwtTokenVerifier verifier = verifier(silent.getLocalPort(), Duration.ofMillis(500));

            long started = System.nanoTime();
            PolicyViolationException e =
                    catchThrowableOfType(PolicyViolationException.class, () -> verifier.verify(token(KEY, "u")));
            Duration took = Duration.ofNanos(System.nanoTime() - started);

            assertThat(e.decision().reason()).isEqualTo(ReasonCode.TOKEN_INVALID);
            assertThat(e.getMessage()).contains("signing keys could not be fetched");
            assertThat(took).isLessThan(Duration.ofSeconds(3));
        }
    }

    @Test
    void aRepeatedTokenSkipsVerificationUntilItExpires() throws Exception {
        JwtTokenVerifier verifier = JwtTokenVerifier.builder(ISSUER, RESOURCE)
                .keys(new JWKSet(KEY.toPublicJWK()).toString())
                .build();
        String token = token(KEY, "repeat");

        VerifiedToken first = verifier.verify(token);
        VerifiedToken second = verifier.verify(token);

        assertThat(second).isSameAs(first);
        assertThat(verifier.fullVerifications()).isEqualTo(1);
        assertThat(first.clientId()).isEqualTo("client-1");
        assertThat(first.scopes()).containsExactlyInAnyOrder("a", "b");
    }

    @Test
    void theBuilderRefusesUnsafeChoices() {
        assertThatThrownBy(() -> JwtTokenVerifier.builder(ISSUER, RESOURCE).algorithms(Set.of("HS256")))
                .hasMessageContaining("HS256 cannot be allowed");
        assertThatThrownBy(() -> JwtTokenVerifier.builder(ISSUER, RESOURCE).algorithms(Set.of("none")))
                .hasMessageContaining("cannot be allowed");
        assertThatThrownBy(() -> JwtTokenVerifier.builder(ISSUER, RESOURCE).jwksUrl(URI.create("http://idp.test/jwks")))
                .hasMessageContaining("must be https");
        assertThatThrownBy(() -> JwtTokenVerifier.builder(ISSUER, RESOURCE).keys(new JWKSet(KEY).toString(false)))
                .hasMessageContaining("public keys only");
        assertThatThrownBy(() -> JwtTokenVerifier.builder(ISSUER, RESOURCE).build())
                .hasMessageContaining("exactly one of jwksUrl");
    }

    private static JwtTokenVerifier verifier(int port, Duration timeouts) {
        return JwtTokenVerifier.builder(ISSUER, RESOURCE)
                .jwksUrl(URI.create("http://127.0.0.1:" + port + "/jwks"))
                .connectTimeout(timeouts)
                .readTimeout(timeouts)
                .build();
    }

    static String token(RSAKey key, String subject) throws Exception {
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(),
                new JWTClaimsSet.Builder()
                        .issuer(ISSUER)
                        .audience(RESOURCE)
                        .subject(subject)
                        .issueTime(new Date())
                        .expirationTime(Date.from(Instant.now().plusSeconds(300)))
                        .claim("azp", "client-1")
                        .claim("scope", "a b")
                        .build());
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    static RSAKey rsa(String kid) {
        try {
            return new RSAKeyGenerator(2048).keyID(kid).generate();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
