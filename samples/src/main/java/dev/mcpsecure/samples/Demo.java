package dev.mcpsecure.samples;

import dev.mcpsecure.core.ServerStart;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The one-command demo: starts the sample servers as real processes over stdio, connects the MCP
 * Java SDK's client to each, makes allowed calls and attacks, and prints a table (call, expected,
 * decision, reason code) followed by the audit records each server wrote to an audit file of its
 * own ({@code MCP_SECURE_AUDIT_FILE}, one per session in the demo's temporary folder, where
 * nothing else writes). Exits 0 only if every row came out as expected, 1 otherwise.
 *
 * <p>Tokens come from the embedded {@code LocalTokenIssuer}, or from Vault/OpenBao when
 * {@code VAULT_ADDR} (or {@code BAO_ADDR}) and {@code MCP_SECURE_VAULT_ROLE_ID_FILE} /
 * {@code MCP_SECURE_VAULT_SECRET_ID_FILE} are set; the demo says which. Run it from the repository
 * root (it reads {@code samples/policies}):
 *
 * <pre>
 * ./mvnw -B -q -DskipTests package &amp;&amp; java -cp samples/target/mcp-secure-samples.jar dev.mcpsecure.samples.Demo
 * </pre>
 */
public final class Demo {

    /** One scripted call and what it must come to. */
    record Row(String server, String call, String expected, String decision, String reason, boolean held) {}

    private final Path work;
    private final Path policies;
    private final Path jar;
    private final List<Row> rows = new ArrayList<>();
    /** Each session's audit file and the lines the server wrote there, in session order. */
    private final Map<Path, List<String>> audit = new LinkedHashMap<>();

    private Demo(Path work, Path policies, Path jar) {
        this.work = work;
        this.policies = policies;
        this.jar = jar;
    }

    /** Runs the demo; see the class description. */
    public static void main(String[] args) throws Exception {
        System.exit(run(System.out));
    }

    static int run(PrintStream out) throws Exception {
        Path policies = Files.isDirectory(Path.of("samples", "policies"))
                ? Path.of("samples", "policies")
                : Path.of("policies");
        if (!Files.isDirectory(policies)) {
            out.println("run the demo from the repository root: it reads samples/policies");
            return 2;
        }
        Path jar = Path.of(
                Demo.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path work = Files.createTempDirectory("mcp-secure-demo-");
        return new Demo(work, policies.toAbsolutePath(), jar).play(out, System.getenv());
    }

    private int play(PrintStream out, Map<String, String> env) throws Exception {
        Path project = Files.createDirectories(work.resolve("project"));
        Files.createDirectories(work.resolve("scratch"));
        Files.writeString(project.resolve("hello.txt"), "hello from the project\n");
        Files.createSymbolicLink(project.resolve("escape"), Path.of("/etc"));
        Path repo = Files.createDirectories(work.resolve("repo"));
        git(repo, "init", "-q");
        git(
                repo,
                "-c",
                "user.name=demo",
                "-c",
                "user.email=demo@example.invalid",
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                "first commit");

        boolean vault = (env.containsKey("VAULT_ADDR") || env.containsKey("BAO_ADDR"))
                && env.containsKey("MCP_SECURE_VAULT_ROLE_ID_FILE")
                && env.containsKey("MCP_SECURE_VAULT_SECRET_ID_FILE");
        String vaultAddress = env.getOrDefault("VAULT_ADDR", env.get("BAO_ADDR"));
        Path jwks = work.resolve("http-api-jwks.json");
        SampleApi.TokenCheck check = vault
                ? new SampleApi.TokenCheck(
                        vaultAddress + "/v1/identity/oidc",
                        null,
                        URI.create(vaultAddress + "/v1/identity/oidc/.well-known/keys"))
                : new SampleApi.TokenCheck("urn:mcp-secure:local-issuer:mcp-secure-http-api", jwks, null);
        out.println(
                "mcp-secure demo: every guard at work on the sample servers (real processes, stdio, the MCP Java SDK client)");
        out.println(
                vault
                        ? "tokens: minted by Vault/OpenBao at " + vaultAddress
                                + " (VAULT_ADDR/BAO_ADDR and AppRole files are set)"
                        : "tokens: minted by the embedded LocalTokenIssuer (set VAULT_ADDR or BAO_ADDR with"
                                + " MCP_SECURE_VAULT_ROLE_ID_FILE and MCP_SECURE_VAULT_SECRET_ID_FILE to use Vault)");
        out.println();

        try (SampleApi api = SampleApi.start(0, check)) {
            String base = "http://127.0.0.1:" + api.port();
            session("filesystem", "FilesystemServer", policy("filesystem.yaml"), Map.of(), client -> {
                expect(
                        client,
                        "filesystem",
                        "read_file hello.txt",
                        "read_file",
                        Map.of("path", "hello.txt"),
                        "ALLOWED");
                expect(
                        client,
                        "filesystem",
                        "path traversal ../../../etc/passwd",
                        "read_file",
                        Map.of("path", "../../../etc/passwd"),
                        "PATH_OUTSIDE_ROOTS");
                expect(
                        client,
                        "filesystem",
                        "symlink escape escape/passwd (-> /etc)",
                        "read_file",
                        Map.of("path", "escape/passwd"),
                        "PATH_SYMLINK_ESCAPE");
            });
            session("git", "GitServer", policy("git.yaml"), Map.of(), client -> {
                expect(client, "git", "git_log", "git_log", Map.of("count", "5"), "ALLOWED");
                expect(
                        client,
                        "git",
                        "argument injection rev=--upload-pack=touch /tmp/pwned",
                        "git_log",
                        Map.of("rev", "--upload-pack=touch /tmp/pwned"),
                        "ARGUMENT_NOT_ALLOWED");
            });
            Map<String, String> apiEnv = vault ? Map.of() : Map.of("SAMPLE_JWKS_FILE", jwks.toString());
            session(
                    "http-api",
                    "HttpApiServer",
                    policy("http-api.yaml").replace("port: 8089", "port: " + api.port()),
                    apiEnv,
                    client -> {
                        expect(
                                client,
                                "http-api",
                                "GET the weather API with a token for its audience",
                                "fetch_json",
                                Map.of("url", base + "/v1/weather?city=Oslo"),
                                "ALLOWED");
                        expect(
                                client,
                                "http-api",
                                "SSRF to the cloud metadata address",
                                "fetch_json",
                                Map.of("url", "http://169.254.169.254/latest/meta-data/iam/"),
                                "EGRESS_HOST_NOT_ALLOWED");
                        expect(
                                client,
                                "http-api",
                                "redirect from the API to the metadata address",
                                "fetch_json",
                                Map.of("url", base + "/v1/moved"),
                                "EGRESS_REDIRECT_BLOCKED");
                        expect(
                                client,
                                "http-api",
                                "DNS rebinding: an allowed name answering loopback",
                                "fetch_json",
                                Map.of("url", "http://localhost/v1/weather", "audience", ""),
                                "EGRESS_ADDRESS_BLOCKED");
                        expect(
                                client,
                                "http-api",
                                "a token for the wrong audience (api.github.com's, sent to the API)",
                                "fetch_json",
                                Map.of("url", base + "/v1/weather?city=Oslo", "audience", "https://api.github.com"),
                                "TOKEN_AUDIENCE_MISMATCH");
                    });
            session("demo", "DemoServer", policy("demo.yaml"), Map.of(), client -> {
                expectRedacted(client, "demo", "a tool output carrying a secret", "show_secret");
                expect(
                        client,
                        "demo",
                        "a risky tool without confirmation (client cannot ask the user)",
                        "delete_note",
                        Map.of(),
                        "CONFIRMATION_UNAVAILABLE");
                expect(
                        client,
                        "demo",
                        "a tool the policy does not list",
                        "unlisted_tool",
                        Map.of(),
                        "TOOL_NOT_ALLOWED");
            });
        }

        printTable(out);
        out.println();
        out.println("audit records (JSON lines each server wrote to its own audit file, where nothing else writes):");
        audit.forEach((file, lines) -> {
            out.println("  " + file);
            lines.forEach(line -> out.println("    " + line));
        });
        long failed = rows.stream().filter(row -> !row.held()).count();
        out.println();
        out.println(
                failed == 0
                        ? "all " + rows.size() + " expectations held"
                        : failed + " of " + rows.size() + " expectations did NOT hold");
        return failed == 0 ? 0 : 1;
    }

    @FunctionalInterface
    private interface Script {
        void run(McpSyncClient client) throws Exception;
    }

    private void session(String name, String mainClass, String policyText, Map<String, String> env, Script script)
            throws Exception {
        Path policy = work.resolve(name + ".yaml");
        Files.writeString(policy, policyText);
        Files.copy(policies.resolve(name + ".lock"), work.resolve(name + ".lock"), StandardCopyOption.REPLACE_EXISTING);
        Path auditFile = work.resolve("audit").resolve(name + ".jsonl");
        Map<String, String> serverEnv = new HashMap<>(env);
        serverEnv.put(ServerStart.AUDIT_FILE_ENV, auditFile.toString());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ServerParameters parameters = ServerParameters.builder(java)
                .args("-cp", jar.toString(), "dev.mcpsecure.samples." + mainClass, "--policy", policy.toString())
                .env(serverEnv)
                .build();
        StdioClientTransport transport = new StdioClientTransport(parameters, McpJsonDefaults.getMapper());
        transport.setStdErrorHandler(line -> {}); // the servers' logs; their audit records are in auditFile
        McpSyncClient client = McpClient.sync(transport)
                .clientInfo(
                        McpSchema.Implementation.builder("mcp-secure-demo", "1").build())
                .requestTimeout(Duration.ofSeconds(30))
                .build();
        try {
            client.initialize();
            script.run(client);
        } finally {
            client.closeGracefully();
        }
        audit.put(
                auditFile, Files.exists(auditFile) ? Files.readAllLines(auditFile, StandardCharsets.UTF_8) : List.of());
    }

    private void expect(
            McpSyncClient client,
            String server,
            String label,
            String tool,
            Map<String, Object> arguments,
            String expected) {
        CallToolResult result = client.callTool(
                McpSchema.CallToolRequest.builder(tool).arguments(arguments).build());
        String reason = reason(result);
        rows.add(new Row(server, label, expected, decision(result), reason, reason.equals(expected)));
    }

    private void expectRedacted(McpSyncClient client, String server, String label, String tool) {
        CallToolResult result = client.callTool(
                McpSchema.CallToolRequest.builder(tool).arguments(Map.of()).build());
        String text = text(result);
        boolean redacted = text.contains("[REDACTED]");
        String reason = reason(result) + (redacted ? ", secret [REDACTED]" : ", secret visible");
        rows.add(new Row(
                server,
                label,
                "ALLOWED, secret [REDACTED]",
                decision(result),
                reason,
                reason.equals("ALLOWED, secret [REDACTED]")));
    }

    private static String reason(CallToolResult result) {
        if (!Boolean.TRUE.equals(result.isError())) {
            return "ALLOWED";
        }
        Object reason = result.meta() == null ? null : result.meta().get("dev.mcpsecure/reason");
        return reason == null ? "ERROR: " + text(result) : reason.toString();
    }

    private static String decision(CallToolResult result) {
        return Boolean.TRUE.equals(result.isError()) ? "deny" : "allow";
    }

    private static String text(CallToolResult result) {
        return result.content().stream()
                .filter(content -> content instanceof McpSchema.TextContent)
                .map(content -> ((McpSchema.TextContent) content).text())
                .findFirst()
                .orElse("");
    }

    private void printTable(PrintStream out) {
        List<String[]> lines = new ArrayList<>();
        lines.add(new String[] {"", "server", "call", "expected", "decision", "reason code"});
        for (Row row : rows) {
            lines.add(new String[] {
                row.held() ? "ok" : "FAIL", row.server(), row.call(), row.expected(), row.decision(), row.reason()
            });
        }
        int[] widths = new int[6];
        for (String[] line : lines) {
            for (int i = 0; i < line.length; i++) {
                widths[i] = Math.max(widths[i], line[i].length());
            }
        }
        for (int l = 0; l < lines.size(); l++) {
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < widths.length; i++) {
                text.append(String.format(Locale.ROOT, "%-" + widths[i] + "s", lines.get(l)[i]))
                        .append(i < 5 ? "  " : "");
            }
            out.println(text.toString().stripTrailing());
            if (l == 0) {
                out.println("-".repeat(text.toString().stripTrailing().length()));
            }
        }
    }

    private String policy(String name) throws IOException {
        return Files.readString(policies.resolve(name), StandardCharsets.UTF_8)
                .replace("/tmp/mcp-secure-samples", work.toString());
    }

    private static void git(Path repo, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("/usr/bin/git", "-C", repo.toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IOException("git " + String.join(" ", args) + " failed: " + output);
        }
    }
}
