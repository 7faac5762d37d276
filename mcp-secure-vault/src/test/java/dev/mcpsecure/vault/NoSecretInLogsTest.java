package dev.mcpsecure.vault;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.api.Secret;
import dev.mcpsecure.testkit.OpenBaoServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs last ({@link ClassOrderer.OrderAnnotation}, see {@code junit-platform.properties}) and
 * searches every log line of this module's test run — the SLF4J log file surefire points
 * {@code org.slf4j.simpleLogger.logFile} at, with mcp-secure at debug level, and the output of
 * every OpenBao server the tests started — for every token, secret, secret_id and JWT the tests
 * handled. It handles some itself first, so it never passes on an empty list.
 */
@Order(Integer.MAX_VALUE)
class NoSecretInLogsTest {

    private static final ConcurrentLinkedQueue<String> SERVER_LOGS = new ConcurrentLinkedQueue<>();

    @RegisterExtension
    static final OpenBaoServer bao = new OpenBaoServer();

    /** Adds an OpenBao server's output to what this test searches. */
    static void collect(String serverLog) {
        SERVER_LOGS.add(serverLog);
    }

    @Test
    void noValueTheTestsHandledAppearsInAnyLogLine(@TempDir Path dir) throws IOException {
        VaultFixture fixture = new VaultFixture(bao, dir);
        VaultFixture.Login files = fixture.server("logcheck", Duration.ofMinutes(10), Duration.ofHours(1), null);
        bao.kvPut("secret", "logcheck/db", Map.of("password", Handled.value("pw-" + System.nanoTime())));
        try (VaultLogin login = VaultLogin.open(
                fixture.settings(), VaultFixture.policy("logcheck").server(), files.credentials())) {
            Handled.value(VaultTokenSource.create(login, VaultFixture.policy("logcheck"))
                    .token(VaultFixture.API_A)
                    .value());
            Secret secret = VaultSecretSource.create(login, VaultFixture.policy("logcheck"))
                    .secret("db-password");
            Handled.value(secret.value());
        }
        collect(bao.log());

        Path logFile = Path.of(System.getProperty("org.slf4j.simpleLogger.logFile", "target/vault-tests.log"));
        assertThat(logFile).as("the SLF4J log file surefire configures").exists();
        List<String> lines = new ArrayList<>(Files.readAllLines(logFile));
        assertThat(lines)
                .as("the run logged vault activity at debug level")
                .anyMatch(line -> line.contains("logged in to vault"))
                .anyMatch(line -> line.contains("minted a token for audience"));
        SERVER_LOGS.forEach(log -> lines.addAll(log.lines().toList()));

        List<String> values = Handled.values();
        assertThat(values).hasSizeGreaterThan(5);
        List<String> leaks = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            for (int v = 0; v < values.size(); v++) {
                if (lines.get(i).contains(values.get(v))) {
                    leaks.add("log line " + (i + 1) + " contains handled value #" + v);
                }
            }
        }
        assertThat(leaks).as("log lines carrying a token or secret").isEmpty();
    }
}
