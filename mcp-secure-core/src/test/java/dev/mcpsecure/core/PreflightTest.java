package dev.mcpsecure.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.api.BearerAuthPolicy;
import dev.mcpsecure.api.EgressRule;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.TokenAudience;
import dev.mcpsecure.api.TokenPolicy;
import dev.mcpsecure.api.TransportPolicy;
import dev.mcpsecure.core.Preflight.Check;
import dev.mcpsecure.core.Preflight.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreflightTest {

    @TempDir
    Path tmp;

    private static Status status(Preflight.Report report, String id) {
        return report.check(id).map(Check::status).orElseThrow();
    }

    /** The value of a /proc/self/status line, read here independently of Preflight. */
    private static String procField(String name) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(line -> line.startsWith(name + ":"))
                .map(line -> line.substring(name.length() + 1).strip())
                .findFirst()
                .orElseThrow();
    }

    @Test
    void thisMachinesRealRuntimeIsReportedAsItIs() throws IOException {
        Preflight.Report report = Preflight.run(SecurityPolicy.denyAll(), Preflight.Runtime.current());

        String effectiveUid = procField("Uid").split("\\s+")[1];
        assertThat(status(report, "non_root")).isEqualTo(effectiveUid.equals("0") ? Status.FAIL : Status.PASS);
        if (effectiveUid.equals("0")) {
            assertThat(report.check("non_root").orElseThrow().fix()).contains("non-root user", "--user 65532:65532");
            assertThat(report.failed()).isTrue();
        }
        assertThat(status(report, "no_new_privileges"))
                .isEqualTo(procField("NoNewPrivs").equals("1") ? Status.PASS : Status.WARN);
        long capabilities = Long.parseUnsignedLong(procField("CapEff"), 16);
        assertThat(status(report, "capabilities"))
                .isEqualTo(
                        capabilities == 0 ? Status.PASS : (capabilities & (1L << 21)) != 0 ? Status.FAIL : Status.WARN);
        assertThat(status(report, "seccomp")).isEqualTo(procField("Seccomp").equals("0") ? Status.WARN : Status.PASS);
        boolean dockerSocket = Files.exists(Path.of("/var/run/docker.sock"))
                || Files.exists(Path.of("/run/docker.sock"))
                || !System.getenv().getOrDefault("DOCKER_HOST", "").isBlank();
        assertThat(status(report, "docker_socket")).isEqualTo(dockerSocket ? Status.FAIL : Status.PASS);
        assertThat(status(report, "ssh_agent"))
                .isEqualTo(System.getenv().getOrDefault("SSH_AUTH_SOCK", "").isBlank() ? Status.PASS : Status.FAIL);
        Path home = Path.of(System.getProperty("user.home"));
        assertThat(status(report, "home_directory")).isEqualTo(Files.isReadable(home) ? Status.WARN : Status.PASS);
        assertThat(report.table()).startsWith("mcp-secure preflight for mcp-server: ");
    }

    @Test
    void aHardenedContainerPassesEveryCheck() throws IOException {
        Path proc = Files.createDirectories(tmp.resolve("proc"));
        Files.writeString(
                proc.resolve("status"),
                String.join(
                        "\n",
                        "Name:\tjava",
                        "Uid:\t65532\t65532\t65532\t65532",
                        "NoNewPrivs:\t1",
                        "CapEff:\t0000000000000000",
                        "Seccomp:\t2",
                        ""));
        Files.writeString(
                proc.resolve("mountinfo"),
                String.join(
                        "\n",
                        "22 1 0:21 / / ro,relatime - overlay overlay ro",
                        "23 22 0:22 / /tmp rw,nosuid,nodev - tmpfs tmpfs rw",
                        ""));

        Preflight.Report report = Preflight.run(
                SecurityPolicy.denyAll(),
                new Preflight.Runtime(
                        proc, Map.of("LANG", "C.UTF-8"), tmp.resolve("no-home"), List.of(tmp.resolve("no.sock"))));

        assertThat(report.checks()).extracting(Check::status).containsOnly(Status.PASS);
        assertThat(report.failed()).isFalse();
        assertThat(report.checks())
                .extracting(Check::id)
                .containsExactly(
                        "non_root",
                        "no_new_privileges",
                        "capabilities",
                        "seccomp",
                        "read_only_root",
                        "docker_socket",
                        "ssh_agent",
                        "cloud_credentials",
                        "home_directory",
                        "secrets_in_env",
                        "public_bind",
                        "token_ttl",
                        "wildcard_egress");
    }

    @Test
    void aCarelessRuntimeFailsWithFixesAndNeverPrintsSecretValues() throws IOException {
        Path proc = Files.createDirectories(tmp.resolve("proc"));
        Files.writeString(
                proc.resolve("status"), "Uid:\t0\t0\t0\t0\nNoNewPrivs:\t0\nCapEff:\t000001ffffffffff\nSeccomp:\t0\n");
        Files.writeString(proc.resolve("mountinfo"), "22 1 0:21 / / rw,relatime - overlay overlay rw\n");
        Path home = Files.createDirectories(tmp.resolve("home"));
        Files.createDirectories(home.resolve(".aws"));
        Files.createDirectories(home.resolve(".kube"));
        Files.writeString(home.resolve(".kube/config"), "x");
        Path socket = Files.writeString(tmp.resolve("docker.sock"), "");
        Map<String, String> env = Map.of(
                "GITHUB_TOKEN", "ghp_secretvalue123",
                "DB_PASSWORD", "hunter2-secret",
                "OPENAI_API_KEY", "sk-secret",
                "EMPTY_TOKEN", "",
                "SSH_AUTH_SOCK", "/tmp/agent.sock");

        Preflight.Report report =
                Preflight.run(SecurityPolicy.denyAll(), new Preflight.Runtime(proc, env, home, List.of(socket)));

        assertThat(status(report, "non_root")).isEqualTo(Status.FAIL);
        assertThat(status(report, "no_new_privileges")).isEqualTo(Status.WARN);
        assertThat(status(report, "capabilities")).isEqualTo(Status.FAIL);
        assertThat(status(report, "seccomp")).isEqualTo(Status.WARN);
        assertThat(status(report, "read_only_root")).isEqualTo(Status.WARN);
        assertThat(status(report, "docker_socket")).isEqualTo(Status.FAIL);
        assertThat(status(report, "ssh_agent")).isEqualTo(Status.FAIL);
        assertThat(status(report, "cloud_credentials")).isEqualTo(Status.FAIL);
        assertThat(report.check("cloud_credentials").orElseThrow().finding()).contains("~/.aws", "~/.kube/config");
        assertThat(status(report, "home_directory")).isEqualTo(Status.WARN);
        assertThat(report.check("secrets_in_env").orElseThrow().finding())
                .contains("DB_PASSWORD", "GITHUB_TOKEN", "OPENAI_API_KEY")
                .doesNotContain("EMPTY_TOKEN");
        assertThat(report.checks()).allSatisfy(check -> {
            if (check.status() != Status.PASS) {
                assertThat(check.fix()).as(check.id()).isNotBlank();
            }
        });
        String table = report.table();
        assertThat(table).doesNotContain("ghp_secretvalue123", "hunter2-secret", "sk-secret");
        assertThat(report.auditEvent(true).detail())
                .doesNotContain("hunter2-secret")
                .contains("non_root");
        assertThat(report.auditEvent(true).allowed()).isFalse();
    }

    @Test
    void withoutProcTheChecksThatNeedItAreSkippedNeverPassed() {
        Preflight.Report report = Preflight.run(
                SecurityPolicy.denyAll(),
                new Preflight.Runtime(tmp.resolve("no-proc"), Map.of(), tmp.resolve("no-home"), List.of()));

        for (String id : List.of("non_root", "no_new_privileges", "capabilities", "seccomp", "read_only_root")) {
            assertThat(status(report, id)).as(id).isEqualTo(Status.SKIPPED);
            assertThat(report.check(id).orElseThrow().finding()).as(id).contains("not Linux");
        }
    }

    @Test
    void riskyPolicyChoicesAreReported() {
        SecurityPolicy policy = SecurityPolicy.builder()
                .transport(TransportPolicy.builder()
                        .bind("0.0.0.0")
                        .allowPublicBind()
                        .auth(BearerAuthPolicy.of(
                                "https://mcp.example/mcp", "https://idp.example", "https://idp.example/jwks"))
                        .build())
                .tokens(new TokenPolicy(
                        Duration.ofMinutes(30),
                        Map.of("https://api.example.com", new TokenAudience("r", Duration.ofMinutes(20)))))
                .egressRule(EgressRule.builder("*.example.com").build())
                .build();

        Preflight.Report report = Preflight.run(policy, Preflight.Runtime.current());

        assertThat(status(report, "public_bind")).isEqualTo(Status.WARN);
        assertThat(status(report, "token_ttl")).isEqualTo(Status.WARN);
        assertThat(report.check("token_ttl").orElseThrow().finding())
                .contains("maxTtl 30m", "https://api.example.com 20m");
        assertThat(status(report, "wildcard_egress")).isEqualTo(Status.WARN);
    }
}
