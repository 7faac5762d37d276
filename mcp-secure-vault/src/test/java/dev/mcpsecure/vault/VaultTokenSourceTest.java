package dev.mcpsecure.vault;

import static dev.mcpsecure.vault.VaultFixture.API_A;
import static dev.mcpsecure.vault.VaultFixture.API_B;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.mcpsecure.api.AccessToken;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.TokenAudience;
import dev.mcpsecure.api.TokenPolicy;
import dev.mcpsecure.testkit.OpenBaoServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@link VaultTokenSource} against a real OpenBao, logged in with AppRole credentials from files. */
class VaultTokenSourceTest {

    @RegisterExtension
    static final OpenBaoServer bao = new OpenBaoServer();

    @TempDir
    static Path dir;

    static VaultFixture fixture;
    static VaultLogin login;
    static VaultTokenSource tokens;

    @BeforeAll
    static void provision() {
        fixture = new VaultFixture(bao, dir);
        VaultFixture.Login weather = fixture.server("weather", Duration.ofMinutes(10), Duration.ofHours(1), null);
        login = VaultLogin.open(
                fixture.settings(), VaultFixture.policy("weather").server(), weather.credentials());
        tokens = VaultTokenSource.create(login, VaultFixture.policy("weather"));
    }

    @AfterAll
    static void close() {
        login.close();
        NoSecretInLogsTest.collect(bao.log());
    }

    @Test
    void aTokenNamesExactlyItsAudienceAndLivesNoLongerThanThePolicyTtl() throws Exception {
        AccessToken token = tokens.token(API_A);
        Handled.value(token.value());

        JWTClaimsSet claims = SignedJWT.parse(token.value()).getJWTClaimsSet();
        assertThat(claims.getAudience()).isEqualTo(List.of(API_A));
        Duration lifetime = Duration.between(
                claims.getIssueTime().toInstant(), claims.getExpirationTime().toInstant());
        assertThat(lifetime).isPositive().isLessThanOrEqualTo(Duration.ofSeconds(120));
        assertThat(token.expiresAt()).isEqualTo(claims.getExpirationTime().toInstant());
        assertThat(token.toString()).doesNotContain(token.value());
        assertThat(claims.getIssuer()).startsWith(bao.address());
    }

    @Test
    void aCachedTokenIsReusedWithoutAnotherMint() {
        AccessToken first = tokens.token(API_B);
        Handled.value(first.value());
        long mints = fixture.requests("identity/oidc/token/weather-b");

        assertThat(tokens.token(API_B)).isSameAs(first);
        assertThat(fixture.requests("identity/oidc/token/weather-b")).isEqualTo(mints);
    }

    @Test
    void anAudienceOutsideThePolicyIsRefusedWithoutAnyVaultRequest() {
        int before = fixture.auditEntries().size();

        PolicyViolationException e =
                catchThrowableOfType(PolicyViolationException.class, () -> tokens.token("https://evil.example"));

        assertThat(e.decision().reason()).isEqualTo(ReasonCode.TOKEN_AUDIENCE_UNKNOWN);
        assertThat(e.getMessage()).contains("https://evil.example").contains("tokens.audiences");
        assertThat(fixture.auditEntries()).hasSize(before);
    }

    @Test
    void aThousandConcurrentCallersCauseExactlyOneMint() throws Exception {
        String server = "burst";
        VaultFixture.Login burst = fixture.server(server, Duration.ofMinutes(10), Duration.ofHours(1), null);
        SecurityPolicy policy = SecurityPolicy.builder()
                .server(server, "")
                .tokens(new TokenPolicy(
                        Duration.ofMinutes(5),
                        Map.of(API_A, new TokenAudience(server + "-a", Duration.ofSeconds(120)))))
                .build();
        try (VaultLogin burstLogin = VaultLogin.open(fixture.settings(), policy.server(), burst.credentials())) {
            VaultTokenSource source = VaultTokenSource.create(burstLogin, policy);
            ExecutorService callers = Executors.newFixedThreadPool(64);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<AccessToken>> calls = new java.util.ArrayList<>();
                for (int i = 0; i < 1_000; i++) {
                    calls.add(callers.submit(() -> {
                        start.await();
                        return source.token(API_A);
                    }));
                }
                start.countDown();
                Set<String> values = ConcurrentHashMap.newKeySet();
                for (Future<AccessToken> call : calls) {
                    values.add(Handled.value(call.get(30, TimeUnit.SECONDS).value()));
                }
                assertThat(values).hasSize(1);
            } finally {
                callers.shutdownNow();
            }
        }
        assertThat(fixture.requests("identity/oidc/token/" + server + "-a")).isEqualTo(1);
    }

    @Test
    void aRoleMintingLongerThanThePolicyAllowsIsRefusedAsInvalid() {
        bao.identityTokenRole("mcp", "weather-long", "https://long.example", Duration.ofHours(1));
        bao.policy(
                "mcp-weather",
                "path \"identity/oidc/token/weather-*\" { capabilities = [\"read\"] }\n"
                        + "path \"secret/data/weather/*\" { capabilities = [\"read\"] }");
        SecurityPolicy policy = SecurityPolicy.builder()
                .server("weather", "")
                .tokens(new TokenPolicy(
                        Duration.ofMinutes(5),
                        Map.of("https://long.example", new TokenAudience("weather-long", Duration.ofMinutes(2)))))
                .build();

        PolicyViolationException e =
                catchThrowableOfType(PolicyViolationException.class, () -> VaultTokenSource.create(login, policy)
                        .token("https://long.example"));

        assertThat(e.decision().reason()).isEqualTo(ReasonCode.TOKEN_INVALID);
        assertThat(e.getMessage())
                .contains("weather-long")
                .contains("lives 3600 s")
                .contains("at most 120 s");
    }

    @Test
    void aRoleWhoseClientIdIsAnotherAudienceIsRefusedAsInvalid() {
        bao.identityTokenRole("mcp", "weather-mixed", "https://other.example", Duration.ofSeconds(60));
        SecurityPolicy policy = SecurityPolicy.builder()
                .server("weather", "")
                .tokens(new TokenPolicy(
                        Duration.ofMinutes(5),
                        Map.of("https://mixed.example", new TokenAudience("weather-mixed", Duration.ofMinutes(2)))))
                .build();

        PolicyViolationException e =
                catchThrowableOfType(PolicyViolationException.class, () -> VaultTokenSource.create(login, policy)
                        .token("https://mixed.example"));

        assertThat(e.decision().reason()).isEqualTo(ReasonCode.TOKEN_INVALID);
        assertThat(e.getMessage()).contains("[https://other.example]").contains("client_id");
    }

    @Test
    void aSourceForAnotherServersPolicyIsRefused() {
        assertThat(catchThrowableOfType(
                        IllegalArgumentException.class,
                        () -> VaultTokenSource.create(login, VaultFixture.policy("someone-else"))))
                .hasMessageContaining("someone-else")
                .hasMessageContaining("weather");
    }
}
