package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.testkit.OpenBaoServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's demo, run as a process from the packaged jar exactly as a newcomer runs it: every
 * row of the table comes out as expected and it exits 0 — with the embedded token issuer, and with
 * a real OpenBao when {@code BAO_ADDR} and AppRole files are set.
 */
class DemoIT {

    @RegisterExtension
    static final OpenBaoServer bao = new OpenBaoServer();

    @TempDir
    Path tmp;

    @Test
    void everyExpectationHoldsWithTheEmbeddedIssuer() throws Exception {
        String output = runDemo(Map.of());

        assertThat(output).contains("tokens: minted by the embedded LocalTokenIssuer");
        assertTable(output);
    }

    @Test
    void withBaoAddrAndAppRoleFilesTheTokensComeFromOpenBao() throws Exception {
        bao.identityTokenRole("mcp", "weather-reader", SampleApi.AUDIENCE, Duration.ofMinutes(2));
        bao.policy("http-api", "path \"identity/oidc/token/weather-reader\" { capabilities = [\"read\"] }");
        OpenBaoServer.AppRole role =
                bao.appRole("mcp-secure-http-api", List.of("http-api"), Duration.ofMinutes(10), Duration.ofHours(1));
        Path roleId = tmp.resolve("role_id");
        Path secretId = tmp.resolve("secret_id");
        Files.writeString(roleId, role.roleId());
        Files.writeString(secretId, role.secretId());

        String output = runDemo(Map.of(
                "BAO_ADDR", bao.address(),
                "MCP_SECURE_VAULT_ROLE_ID_FILE", roleId.toString(),
                "MCP_SECURE_VAULT_SECRET_ID_FILE", secretId.toString()));

        assertThat(output).contains("tokens: minted by Vault/OpenBao at " + bao.address());
        assertTable(output);
        assertThat(output).doesNotContain(role.secretId());
    }

    /** What each server's calls must come to, in the order the demo makes them; and the effects it must show. */
    private static final Map<String, List<String>> CALLS = Map.of(
            "filesystem", List.of("ALLOWED", "PATH_OUTSIDE_ROOTS", "PATH_SYMLINK_ESCAPE"),
            "git", List.of("ALLOWED", "ARGUMENT_NOT_ALLOWED"),
            "http-api",
                    List.of(
                            "ALLOWED",
                            "EGRESS_HOST_NOT_ALLOWED",
                            "EGRESS_REDIRECT_BLOCKED",
                            "EGRESS_ADDRESS_BLOCKED",
                            "TOKEN_AUDIENCE_MISMATCH"),
            "demo", List.of("ALLOWED", "CONFIRMATION_UNAVAILABLE", "TOOL_NOT_ALLOWED"));

    private static final Map<String, String[]> EFFECTS = Map.of(
            "filesystem", new String[] {"file.read"},
            "git", new String[] {"process"},
            "http-api", new String[] {"egress", "token"},
            "demo", new String[] {"secret"});

    private static void assertTable(String output) {
        assertThat(output).contains("all 13 expectations held");
        assertThat(output.lines().filter(line -> line.startsWith("ok ")).count())
                .isEqualTo(13);
        assertThat(output.lines()).noneMatch(line -> line.startsWith("FAIL"));
        assertThat(output)
                .contains("PATH_SYMLINK_ESCAPE", "ARGUMENT_NOT_ALLOWED", "EGRESS_ADDRESS_BLOCKED")
                .contains("TOKEN_AUDIENCE_MISMATCH", "CONFIRMATION_UNAVAILABLE", "secret [REDACTED]");
        assertAudit(output);
        // the four samples start as processes against their own policies (the API's port moved):
        // their tool text trips no poisoning lint
        assertThat(output).doesNotContain("TOOL_DEFINITION_SUSPICIOUS");
    }

    /**
     * The audit records the demo prints, file by file: each file's lines are strict audit records
     * ({@link AuditRecords#parse}), one call record per call of the table with its reason, and
     * every file, process and egress effect tied to its call.
     */
    private static void assertAudit(String output) {
        List<String> lines = output.lines().toList();
        int header = lines.indexOf(
                "audit records (JSON lines each server wrote to its own audit file, where nothing else writes):");
        assertThat(header).as("the audit records' header:\n%s", output).isNotNegative();
        Map<String, StringBuilder> files = new LinkedHashMap<>();
        StringBuilder current = null;
        for (String line : lines.subList(header + 1, lines.size())) {
            if (line.startsWith("    ")) {
                assertThat(current).as("a record before its file: %s", line).isNotNull();
                current.append(line.substring(4)).append('\n');
            } else if (line.startsWith("  ")) {
                current = new StringBuilder();
                files.put(line.substring(2), current);
            } else {
                break;
            }
        }
        assertThat(files.keySet())
                .as("one audit file per server, in session order")
                .hasSize(4)
                .allMatch(file -> Path.of(file).isAbsolute())
                .extracting(file -> Path.of(file).getFileName().toString())
                .containsExactly("filesystem.jsonl", "git.jsonl", "http-api.jsonl", "demo.jsonl");
        files.forEach((file, text) -> {
            String server = Path.of(file).getFileName().toString().replace(".jsonl", "");
            List<Map<String, Object>> records = AuditRecords.parse(text.toString(), file);
            assertThat(AuditRecords.calls(records))
                    .as("%s: one call record per call of the table", server)
                    .extracting(line -> line.get("reason"))
                    .containsExactlyElementsOf(CALLS.get(server));
            AuditRecords.assertEffectsCarryTheirCall(records, EFFECTS.get(server));
        });
    }

    @Test
    void theDocumentedDevVaultPutsTheDemoInVaultModeWithOneCommand() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        Map<String, String> scriptEnv = Map.of(
                "MCP_SECURE_DEV_VAULT_DIR", tmp.resolve("dev-vault").toString(), "BAO_PORT", String.valueOf(port));
        try {
            Map<String, String> exported = new LinkedHashMap<>();
            for (String line : devVault(scriptEnv).split("\n")) {
                assertThat(line).startsWith("export ");
                String[] pair = line.substring("export ".length()).split("=", 2);
                exported.put(pair[0], pair[1]);
            }
            assertThat(exported).containsKeys("BAO_ADDR", "MCP_SECURE_VAULT_SECRET_ID_FILE");

            String output = runDemo(exported);

            assertThat(output).contains("tokens: minted by Vault/OpenBao at http://127.0.0.1:" + port);
            assertTable(output);
        } finally {
            devVault(scriptEnv, "stop");
        }
    }

    /** Runs tools/dev-vault.sh as the README says; returns its stdout (the export lines). */
    private String devVault(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(
                List.of("bash", Path.of("..", "tools", "dev-vault.sh").toString()));
        command.addAll(List.of(args));
        Path stdout = tmp.resolve("dev-vault-" + System.nanoTime() + ".out");
        Path stderr = tmp.resolve("dev-vault-" + System.nanoTime() + ".err");
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
        builder.environment().putAll(env);
        Process script = builder.start();
        boolean finished = script.waitFor(2, TimeUnit.MINUTES);
        if (!finished) {
            script.destroyForcibly();
        }
        String log = Files.readString(stderr, StandardCharsets.UTF_8);
        assertThat(finished && script.exitValue() == 0)
                .as("tools/dev-vault.sh %s:\n%s", args, log)
                .isTrue();
        return Files.readString(stdout, StandardCharsets.UTF_8).strip();
    }

    private String runDemo(Map<String, String> env) throws IOException, InterruptedException {
        List<String> command = PythonDriver.command("dev.mcpsecure.samples.Demo");
        Path log = tmp.resolve("demo-" + System.nanoTime() + ".out");
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().remove("VAULT_ADDR");
        builder.environment().remove("BAO_ADDR");
        builder.environment().putAll(env);
        Process demo = builder.start();
        boolean finished = demo.waitFor(2, TimeUnit.MINUTES);
        String output = Files.readString(log, StandardCharsets.UTF_8);
        if (!finished) {
            demo.destroyForcibly();
        }
        assertThat(finished)
                .as("the demo finishes within 2 minutes:\n%s", output)
                .isTrue();
        assertThat(demo.exitValue()).as("the demo's exit code:\n%s", output).isZero();
        return output;
    }
}
