package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.ElicitResult;
import io.modelcontextprotocol.spec.McpSchema.TextContent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo stdio server, started as a real process from the packaged jar, driven by the official
 * Python MCP client (PyPI {@code mcp}) and by the Java SDK's stdio client.
 */
class DemoServerIT {

    private static final Path POLICY = Path.of("policies", "demo.yaml").toAbsolutePath();
    private static final Path DRIVER =
            Path.of("src", "test", "python", "drive_stdio.py").toAbsolutePath();
    private static final McpJsonMapper JSON = McpJsonDefaults.getMapper();

    /** Each call the clients make, in order, with what must come back: a text, or a reason code. */
    private static final Map<String, String> EXPECTED = new LinkedHashMap<>();

    static {
        EXPECTED.put("echo", "text:hi");
        EXPECTED.put("show_secret", "text:the key is [REDACTED]");
        EXPECTED.put("unlisted_tool", "TOOL_NOT_ALLOWED");
        EXPECTED.put("write_note", "RISK_NOT_ENABLED");
        EXPECTED.put("slow", "TIMEOUT");
        EXPECTED.put("boom", "TOOL_FAILED");
        EXPECTED.put("delete_note", "USER_DECLINED");
        EXPECTED.put("no_such_tool", "TOOL_NOT_ALLOWED");
    }

    @TempDir
    Path dir;

    private String secret;
    private Path secretFile;

    @BeforeEach
    void writeSecret() throws IOException {
        byte[] random = new byte[12];
        new SecureRandom().nextBytes(random);
        secret = "demo-secret-" + HexFormat.of().formatHex(random);
        secretFile = dir.resolve("demo-api-key");
        Files.writeString(secretFile, secret + "\n");
    }

    private List<String> serverCommand() {
        return PythonDriver.command(
                "dev.mcpsecure.samples.DemoServer",
                "--policy",
                POLICY.toString(),
                "--secret-file",
                secretFile.toString());
    }

    private PythonDriver.Run drivePython(String elicitation, List<String> tools) throws IOException {
        List<PythonDriver.Call> calls = new ArrayList<>();
        for (String tool : tools) {
            calls.add(new PythonDriver.Call(tool, tool.equals("echo") ? Map.of("text", "hi") : Map.of()));
        }
        return PythonDriver.drive(serverCommand(), elicitation, calls);
    }

    @Test
    void pythonClientSeesOnlyAllowedToolsAndTypedDenials() throws IOException {
        PythonDriver.Run run = drivePython("decline", List.copyOf(EXPECTED.keySet()));
        Map<String, Object> report = run.report();

        assertThat(report.get("protocolVersion")).isEqualTo("2025-11-25");
        assertThat(report.get("serverName")).isEqualTo("mcp-secure-demo");
        assertThat(report.get("tools")).isEqualTo(List.of("boom", "delete_note", "echo", "show_secret", "slow"));
        List<Map<String, Object>> calls = run.calls();
        assertThat(calls).hasSize(EXPECTED.size());
        for (Map<String, Object> call : calls) {
            String tool = (String) call.get("tool");
            @SuppressWarnings("unchecked")
            String text = String.join("\n", (List<String>) call.get("text"));
            assertOutcome(tool, Boolean.TRUE.equals(call.get("isError")), text, (Map<?, ?>) call.get("meta"));
        }
        assertAudited(run.audit(), List.copyOf(EXPECTED.keySet()), "mcp");
        assertThat(run.stderr())
                .as("the sample prints its preflight table at start")
                .contains("mcp-secure preflight for mcp-secure-demo: ");
        assertThat(run.stdout() + run.stderr() + run.audit()).doesNotContain(secret);
    }

    @Test
    void pythonClientWithoutElicitationCannotRunAConfirmedTool() throws IOException {
        PythonDriver.Run run = drivePython("none", List.of("delete_note"));

        assertThat(run.calls().toString()).contains("CONFIRMATION_UNAVAILABLE");
        assertThat(run.callRecords()).singleElement().satisfies(line -> assertThat(line.get("reason"))
                .isEqualTo("CONFIRMATION_UNAVAILABLE"));
        assertThat(AuditRecords.ofKind(run.audit(), "effect"))
                .as("a call refused before it ran has no effects")
                .isEmpty();
    }

    @Test
    void javaSdkClientOverStdioSeesTheSame() throws IOException {
        List<String> command = serverCommand();
        Path auditFile = AuditRecords.freshFile();
        StdioClientTransport transport = new StdioClientTransport(
                ServerParameters.builder(command.get(0))
                        .args(command.subList(1, command.size()))
                        .env(Map.of(AuditRecords.ENV, auditFile.toString()))
                        .build(),
                JSON);
        List<String> stderr = new CopyOnWriteArrayList<>();
        transport.setStdErrorHandler(stderr::add);
        McpSyncClient client = McpClient.sync(transport)
                .clientInfo(McpSchema.Implementation.builder("java-it", "1.0").build())
                .capabilities(
                        McpSchema.ClientCapabilities.builder().elicitation().build())
                .elicitation(request -> new ElicitResult(ElicitResult.Action.DECLINE, Map.of()))
                .requestTimeout(Duration.ofSeconds(30))
                .build();
        List<String> outputs = new ArrayList<>();
        try {
            McpSchema.InitializeResult init = client.initialize();
            assertThat(init.protocolVersion()).isEqualTo("2025-11-25");
            assertThat(client.listTools().tools())
                    .extracting(McpSchema.Tool::name)
                    .containsExactlyInAnyOrder("boom", "delete_note", "echo", "show_secret", "slow");
            for (String tool : EXPECTED.keySet()) {
                CallToolResult result = client.callTool(McpSchema.CallToolRequest.builder(tool)
                        .arguments(tool.equals("echo") ? Map.of("text", "hi") : Map.of())
                        .build());
                String text = result.content().stream()
                        .map(content -> ((TextContent) content).text())
                        .collect(Collectors.joining("\n"));
                outputs.add(text);
                assertOutcome(tool, Boolean.TRUE.equals(result.isError()), text, result.meta());
            }
        } finally {
            client.closeGracefully();
        }
        List<Map<String, Object>> audit = AuditRecords.readAndDelete(auditFile);
        assertAudited(audit, List.copyOf(EXPECTED.keySet()), "java-it");
        assertThat(String.join("\n", stderr)).doesNotContain(" dev.mcpsecure.audit ");
        assertThat(String.join("\n", outputs) + String.join("\n", stderr) + audit)
                .doesNotContain(secret);
    }

    private static void assertOutcome(String tool, boolean isError, String text, Map<?, ?> rawMeta) {
        Map<Object, Object> meta = rawMeta == null ? Map.of() : new LinkedHashMap<>(rawMeta);
        String expected = EXPECTED.get(tool);
        if (expected.startsWith("text:")) {
            assertThat(isError).as(tool).isFalse();
            assertThat(text).as(tool).isEqualTo(expected.substring(5));
            return;
        }
        assertThat(isError).as(tool).isTrue();
        assertThat(text).as(tool).startsWith(expected + ": ");
        assertThat(meta).as(tool).containsEntry("dev.mcpsecure/reason", expected);
        assertThat(text)
                .as(tool + ": no host path, exception or stack trace reaches the client")
                .doesNotContain("/home/demo")
                .doesNotContain("Exception")
                .doesNotContain("\tat ");
    }

    /**
     * Exactly one call record per call, in order, with every field; the one effect (show_secret's
     * secret) tied to its call.
     */
    private static void assertAudited(List<Map<String, Object>> audit, List<String> tools, String client) {
        List<Map<String, Object>> lines = AuditRecords.calls(audit);
        assertThat(lines).extracting(line -> line.get("tool")).containsExactlyElementsOf(tools);
        for (Map<String, Object> line : lines) {
            String tool = (String) line.get("tool");
            String expected = EXPECTED.get(tool);
            assertThat(line)
                    .containsKeys(
                            "time",
                            "kind",
                            "server",
                            "callId",
                            "session",
                            "client",
                            "clientVersion",
                            "subject",
                            "clientId",
                            "tool",
                            "action",
                            "decision",
                            "reason",
                            "argumentsSha256",
                            "durationMicros",
                            "redactions",
                            "incident",
                            "detail");
            assertThat(line.get("server")).isEqualTo("mcp-secure-demo");
            assertThat(line.get("callId")).as(tool).isNotNull();
            assertThat(line.get("session")).as(tool).isNotNull();
            assertThat(line.get("action")).as(tool).isNull();
            assertThat(line.get("client")).isEqualTo(client);
            assertThat(line.get("reason")).as(tool).isEqualTo(expected.startsWith("text:") ? "ALLOWED" : expected);
            assertThat(line.get("decision")).isEqualTo(expected.startsWith("text:") ? "allow" : "deny");
            assertThat((String) line.get("argumentsSha256")).matches("[0-9a-f]{64}");
        }
        assertThat(lines)
                .filteredOn(line -> "show_secret".equals(line.get("tool")))
                .singleElement()
                .satisfies(line -> {
                    assertThat(((Number) line.get("redactions")).intValue()).isEqualTo(1);
                    assertThat(AuditRecords.effectsOf(audit, line.get("callId")))
                            .as("show_secret's secret, an effect of its call")
                            .singleElement()
                            .satisfies(effect -> {
                                assertThat(effect.get("action")).isEqualTo("secret");
                                assertThat(effect.get("reason")).isEqualTo("ALLOWED");
                            });
                });
        assertThat(AuditRecords.ofKind(audit, "effect"))
                .as("the demo's tools use nothing but show_secret's secret")
                .extracting(effect -> effect.get("tool") + " " + effect.get("action"))
                .containsExactly("show_secret secret");
        AuditRecords.assertEffectsCarryTheirCall(audit, "secret");
    }
}
