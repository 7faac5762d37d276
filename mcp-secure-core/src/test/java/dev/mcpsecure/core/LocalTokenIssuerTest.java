package dev.mcpsecure.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.mcpsecure.api.AccessToken;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.TokenAudience;
import dev.mcpsecure.api.TokenPolicy;
import dev.mcpsecure.testkit.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LocalTokenIssuerTest {

    static final String API = "https://api.example.com";

    final ManualClock clock = new ManualClock(Instant.parse("2026-11-22T10:00:00Z"));
    final SecurityPolicy policy = SecurityPolicy.builder()
            .server("weather", "")
            .tokens(new TokenPolicy(
                    Duration.ofMinutes(5), Map.of(API, new TokenAudience("weather-reader", Duration.ofMinutes(2)))))
            .build();
    final LocalTokenIssuer issuer = LocalTokenIssuer.create(policy, clock);

    @Test
    void aTokenNamesExactlyItsAudienceAndLivesThePolicyTtlSignedByTheKeyInTheJwks() throws Exception {
        AccessToken token = issuer.token(API);

        SignedJWT jwt = SignedJWT.parse(token.value());
        ECKey key = (ECKey)
                JWKSet.parse(issuer.jwksJson()).getKeyByKeyId(jwt.getHeader().getKeyID());
        assertThat(jwt.verify(new ECDSAVerifier(key))).isTrue();
        JWTClaimsSet claims = jwt.getJWTClaimsSet();
        assertThat(claims.getAudience()).isEqualTo(List.of(API));
        assertThat(claims.getIssuer()).isEqualTo(issuer.issuer()).isEqualTo("urn:mcp-secure:local-issuer:weather");
        assertThat(claims.getSubject()).isEqualTo("weather");
        assertThat(Duration.between(
                        claims.getIssueTime().toInstant(),
                        claims.getExpirationTime().toInstant()))
                .isEqualTo(Duration.ofMinutes(2));
        assertThat(token.expiresAt()).isEqualTo(claims.getExpirationTime().toInstant());
        assertThat(token.audience()).isEqualTo(API);
    }

    @Test
    void theJwksAndToStringCarryNoPrivateKey() throws Exception {
        assertThat(JWKSet.parse(issuer.jwksJson()).getKeys())
                .allSatisfy(k -> assertThat(k.isPrivate()).isFalse());
        assertThat(issuer.jwksJson()).doesNotContain("\"d\"");
        assertThat(issuer.toString()).doesNotContain("\"d\"").contains("local-issuer:weather");
    }

    @Test
    void aTokenIsReusedUntilTwoThirdsOfItsLifetimeThenReplaced() {
        AccessToken first = issuer.token(API);
        clock.advance(Duration.ofSeconds(79));
        assertThat(issuer.token(API)).isSameAs(first);
        clock.advance(Duration.ofSeconds(1));
        AccessToken second = issuer.token(API);
        assertThat(second.value()).isNotEqualTo(first.value());
        assertThat(second.expiresAt()).isEqualTo(first.expiresAt().plusSeconds(80));
    }

    @Test
    void anAudienceOutsideThePolicyIsRefused() {
        PolicyViolationException e =
                catchThrowableOfType(PolicyViolationException.class, () -> issuer.token("https://evil.example"));
        assertThat(e.decision().reason()).isEqualTo(ReasonCode.TOKEN_AUDIENCE_UNKNOWN);
        assertThat(e.getMessage()).contains("https://evil.example").contains("tokens.audiences");
    }

    @Test
    void aServerWithTokenAudiencesAndNoTokenSourceUsesTheLocalIssuer() throws Exception {
        AccessToken token = SecureMcpServer.builder(policy).tokens().token(API);
        assertThat(SignedJWT.parse(token.value()).getJWTClaimsSet().getIssuer())
                .isEqualTo("urn:mcp-secure:local-issuer:weather");
    }

    @Test
    void aServerWithoutTokenAudiencesRefusesEveryAudience() {
        PolicyViolationException e = catchThrowableOfType(
                PolicyViolationException.class,
                () -> SecureMcpServer.builder(SecurityPolicy.denyAll()).tokens().token(API));
        assertThat(e.decision().reason()).isEqualTo(ReasonCode.TOKEN_AUDIENCE_UNKNOWN);
    }
}
