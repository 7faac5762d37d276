package dev.mcpsecure.vault;

import static dev.mcpsecure.vault.VaultFixture.API_A;
import static dev.mcpsecure.vault.VaultFixture.API_B;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.mcpsecure.api.AccessToken;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.testkit.FaultyTcpProxy;
import dev.mcpsecure.testkit.ManualClock;
import dev.mcpsecure.testkit.OpenBaoServer;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults with the real server: stopped, replaced by a fresh one on the same address, tokens
 * revoked behind the client's back; and, through {@link FaultyTcpProxy} (a fake, since no real
 * server can be made to), a listener that accepts and never answers.
 */
class VaultFaultsTest {

    @RegisterExtension
    static final OpenBaoServer bao = new OpenBaoServer();

    @TempDir
    static Path dir;

    static final Duration CONNECT_TIMEOUT = Duration.ofMillis(500);
    static final Duration READ_TIMEOUT = Duration.ofSeconds(1);
    static final Duration WAIT = Duration.ofSeconds(2);

    @AfterAll
    static void collectLog() {
        NoSecretInLogsTest.collect(bao.log());
    }

    @Test
    void aStoppedVaultServesTheCachedTokenUntilItsMarginThenFailsClosedThenRecoversOnAFreshServer() {
        VaultFixture fixture = new VaultFixture(bao, dir);
        VaultFixture.Login files = fixture.server("outage", Duration.ofMinutes(10), Duration.ofHours(1), null);
        SecurityPolicy policy = VaultFixture.policy("outage");
        ManualClock clock = new ManualClock(Instant.now());
        try (VaultLogin login = VaultLogin.open(settings(bao.address()), policy.server(), files.credentials(), clock)) {
            VaultTokenSource tokens = VaultTokenSource.builder(login, policy)
                    .timeout(WAIT)
                    .safetyMargin(Duration.ofSeconds(10))
                    .build();
            AccessToken first = tokens.token(API_A); // 120 s: refresh from 80 s, usable until 110 s
            Handled.value(first.value());

            bao.stop();
            clock.advance(Duration.ofSeconds(85));
            assertThat(tokens.token(API_A))
                    .as("past its refresh point, within its margin")
                    .isSameAs(first);

            clock.advance(Duration.ofSeconds(26));
            long started = System.nanoTime();
            PolicyViolationException e =
                    catchThrowableOfType(PolicyViolationException.class, () -> tokens.token(API_A));
            Duration took = Duration.ofNanos(System.nanoTime() - started);

            assertThat(e.decision().reason()).isEqualTo(ReasonCode.VAULT_UNAVAILABLE);
            assertThat(e.getMessage()).contains(API_A).contains(bao.address());
            assertThat(took).isLessThanOrEqualTo(WAIT.plusMillis(500));

            bao.start(); // a new, empty server on the same address
            new VaultFixture(bao, dir).server("outage", Duration.ofMinutes(10), Duration.ofHours(1), files);
            AccessToken recovered = tokens.token(API_A);
            Handled.value(recovered.value());

            assertThat(recovered.value()).isNotEqualTo(first.value());
            assertThat(recovered.audience()).isEqualTo(API_A);
        }
    }

    @Test
    void aRevokedLoginTokenCausesOneFreshLoginAndTheCallSucceeds() {
        VaultFixture fixture = new VaultFixture(bao, dir);
        VaultFixture.Login files = fixture.server("revoked", Duration.ofMinutes(10), Duration.ofHours(1), null);
        SecurityPolicy policy = VaultFixture.policy("revoked");
        try (VaultLogin login = VaultLogin.open(settings(bao.address()), policy.server(), files.credentials())) {
            VaultTokenSource tokens = VaultTokenSource.create(login, policy);
            Handled.value(tokens.token(API_A).value());
            long logins = fixture.requests("auth/approle/login");

            int revoked = revokeAppRoleTokens();
            assertThat(revoked).isPositive();

            Handled.value(tokens.token(API_B).value());
            assertThat(fixture.requests("auth/approle/login")).isEqualTo(logins + 1);
        }
    }

    @Test
    void aListenerThatNeverAnswersTimesOutWithinTheBoundAndLeavesNoThreadBehind() throws Exception {
        VaultFixture fixture = new VaultFixture(bao, dir);
        VaultFixture.Login files = fixture.server("hang", Duration.ofMinutes(10), Duration.ofHours(1), null);
        SecurityPolicy policy = VaultFixture.policy("hang");
        try (FaultyTcpProxy proxy = FaultyTcpProxy.to(bao.port())) {
            VaultLogin login = VaultLogin.open(settings(proxy.address()), policy.server(), files.credentials());
            VaultTokenSource tokens =
                    VaultTokenSource.builder(login, policy).timeout(WAIT).build();
            Handled.value(tokens.token(API_A).value());

            proxy.hang();
            long started = System.nanoTime();
            PolicyViolationException e =
                    catchThrowableOfType(PolicyViolationException.class, () -> tokens.token(API_B));
            Duration took = Duration.ofNanos(System.nanoTime() - started);

            assertThat(e.decision().reason()).isEqualTo(ReasonCode.VAULT_UNAVAILABLE);
            assertThat(e.getMessage()).contains("did not answer within 2000 ms");
            assertThat(took).isBetween(WAIT.minusMillis(100), WAIT.plusMillis(500));

            proxy.forward();
            Thread.sleep(READ_TIMEOUT.multipliedBy(4).toMillis()); // the abandoned fetch gives up on its own
            Handled.value(tokens.token(API_B).value());

            login.close();
            assertThat(awaitNoThreads("-hang-", Duration.ofSeconds(5)))
                    .as("threads of the closed login")
                    .isEmpty();

            proxy.hang();
            long openStarted = System.nanoTime();
            PolicyViolationException atOpen = catchThrowableOfType(
                    PolicyViolationException.class,
                    () -> VaultLogin.open(settings(proxy.address()), policy.server(), files.credentials()));
            assertThat(atOpen.getMessage()).contains("did not answer").contains("in time");
            assertThat(Duration.ofNanos(System.nanoTime() - openStarted))
                    .isLessThanOrEqualTo(READ_TIMEOUT.plusSeconds(1));
            assertThat(awaitNoThreads("-hang-", Duration.ofSeconds(5))).isEmpty();
        }
    }

    private static VaultSettings settings(String address) {
        return new VaultSettings(URI.create(address), "", CONNECT_TIMEOUT, READ_TIMEOUT);
    }

    /** Revokes every token issued by an AppRole login, as an operator would; returns how many. */
    @SuppressWarnings("unchecked")
    private static int revokeAppRoleTokens() {
        List<String> accessors = (List<String>) OpenBaoServer.data(bao.call("LIST", "auth/token/accessors", null))
                .get("keys");
        int revoked = 0;
        for (String accessor : accessors) {
            Map<String, Object> token =
                    OpenBaoServer.data(bao.call("POST", "auth/token/lookup-accessor", Map.of("accessor", accessor)));
            if ("auth/approle/login".equals(token.get("path"))) {
                bao.call("POST", "auth/token/revoke-accessor", Map.of("accessor", accessor));
                revoked++;
            }
        }
        return revoked;
    }

    private static List<String> awaitNoThreads(String nameContains, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            List<String> alive = Thread.getAllStackTraces().keySet().stream()
                    .filter(Thread::isAlive)
                    .map(Thread::getName)
                    .filter(name -> name.startsWith("mcp-secure-vault") && name.contains(nameContains))
                    .toList();
            if (alive.isEmpty() || System.nanoTime() > deadline) {
                return alive;
            }
            Thread.sleep(50);
        }
    }
}
