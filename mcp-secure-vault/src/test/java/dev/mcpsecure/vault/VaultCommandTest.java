package dev.mcpsecure.vault;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.testkit.OpenBaoServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@link VaultCommand} as a user runs it: plan, apply (dry run and real), check, and the usage errors. */
class VaultCommandTest {

    @RegisterExtension
    static final OpenBaoServer bao = new OpenBaoServer();

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private static final String HTTP_API =
            VaultPlannerTest.SAMPLES.resolve("http-api.yaml").toString();

    @Test
    void planPrintsTheReviewedPlan() throws Exception {
        int code = run(Map.of(), "vault", "plan", "--policy", HTTP_API);

        assertThat(code).isZero();
        assertThat(out()).isEqualTo(Files.readString(VaultPlannerTest.GOLDEN.resolve("http-api.plan")));
    }

    @Test
    void applyPrintsTheRoleIdWritesTheWrappedSecretIdAndCheckThenFindsNothing() throws Exception {
        Map<String, String> env = Map.of("BAO_ADDR", bao.address(), "BAO_TOKEN", bao.rootToken());

        int applied = run(env, "vault", "apply", "--policy", HTTP_API, "--out", dir.toString());

        assertThat(applied).as(err()).isZero();
        Path folder = dir.resolve("mcp-secure-http-api");
        String roleId = Files.readString(folder.resolve("role_id")).strip();
        String wrapped =
                Handled.value(Files.readString(folder.resolve("secret_id")).strip());
        assertThat(out()).contains("role_id " + roleId).doesNotContain(wrapped).doesNotContain(bao.rootToken());
        assertThat(err()).doesNotContain(wrapped).doesNotContain(bao.rootToken());

        out.reset();
        assertThat(run(env, "vault", "check", "--policy", HTTP_API)).isZero();
        assertThat(out()).isEqualTo("server mcp-secure-http-api: the vault holds exactly the plan\n");

        bao.call("POST", "identity/oidc/role/weather-reader", Map.of("ttl", "1h"));
        out.reset();
        assertThat(run(env, "vault", "check", "--policy", HTTP_API)).isEqualTo(VaultCommand.EXIT_DATA);
        assertThat(out()).contains("LONGER_TTL identity/oidc/role/weather-reader: ttl is 3600 s; the plan says 120 s");
    }

    @Test
    void aDryRunPrintsTheRequestsAndNeedsNoVault() {
        int code = run(Map.of(), "vault", "apply", "--dry-run", "--policy", HTTP_API);

        assertThat(code).isZero();
        assertThat(out())
                .contains("PUT /v1/sys/policies/acl/mcp-secure-http-api\n")
                .contains("POST /v1/auth/approle/role/mcp-secure-http-api/secret-id\nX-Vault-Wrap-TTL: 600s\n");
    }

    @Test
    void collidingServersAreRefused() throws Exception {
        Path other = dir.resolve("other.yaml");
        Files.writeString(
                other,
                Files.readString(Path.of(HTTP_API)).replace("name: mcp-secure-http-api", "name: MCP_Secure.http-api"));

        int code = run(Map.of(), "vault", "plan", "--policy", HTTP_API, "--policy", other.toString());

        assertThat(code).isEqualTo(VaultCommand.EXIT_DATA);
        assertThat(err()).contains("servers mcp-secure-http-api and MCP_Secure.http-api would share the vault name");
    }

    @Test
    void usageErrorsNameTheProblem() {
        assertThat(run(Map.of(), "vault", "apply", "--policy", HTTP_API)).isEqualTo(VaultCommand.EXIT_USAGE);
        assertThat(err()).contains("vault apply needs --out <dir>");
        err.reset();
        assertThat(run(Map.of(), "vault", "check", "--policy", HTTP_API)).isEqualTo(VaultCommand.EXIT_USAGE);
        assertThat(err()).contains("set VAULT_ADDR (or BAO_ADDR) and the operator token");
        err.reset();
        assertThat(run(Map.of(), "vault", "plan", "--login-ttl", "2d", "--policy", HTTP_API))
                .isEqualTo(VaultCommand.EXIT_USAGE);
        assertThat(err()).contains("--login-ttl takes a duration such as 90s, 15m or 1h, but was 2d");
        err.reset();
        assertThat(run(Map.of(), "vault", "lock")).isEqualTo(VaultCommand.EXIT_USAGE);
    }

    private int run(Map<String, String> env, String... args) {
        return VaultCommand.run(
                args,
                env,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }
}
