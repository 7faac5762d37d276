package dev.mcpsecure.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.testkit.RecordingAuditSink;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecureStdioServerTest {

    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final RecordingAuditSink audit = new RecordingAuditSink();

    private final Consumer<SecureMcpServer.Builder> tools = server -> server.auditSink(audit)
            .tool(SyncToolSpecification.builder()
                    .tool(McpSchema.Tool.builder("echo", Map.of("type", "object"))
                            .build())
                    .callHandler((exchange, request) -> CallToolResult.builder()
                            .addTextContent("echo:" + request.arguments().get("text"))
                            .isError(false)
                            .build())
                    .build());

    private int runWithoutInput(String[] args, Map<String, String> env) {
        return runWithoutInput(args, env, Preflight.Runtime.current());
    }

    private int runWithoutInput(String[] args, Map<String, String> env, Preflight.Runtime runtime) {
        return SecureStdioServer.run(
                args,
                env,
                new ByteArrayInputStream(new byte[0]),
                OutputStream.nullOutputStream(),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                runtime,
                tools);
    }

    @Test
    void servesUntilStdinClosesWithOnlyProtocolOnStdout(@TempDir Path dir) throws Exception {
        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, "tools:\n  - name: echo\n");
        PipedOutputStream clientWrites = new PipedOutputStream();
        PipedInputStream serverReads = new PipedInputStream(clientWrites, 1 << 16);
        PipedInputStream clientReads = new PipedInputStream(1 << 16);
        PipedOutputStream serverWrites = new PipedOutputStream(clientReads);
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> SecureStdioServer.run(
                new String[] {"--policy", policy.toString()},
                Map.of(),
                serverReads,
                serverWrites,
                new PrintStream(err, true, StandardCharsets.UTF_8),
                Preflight.Runtime.current(),
                tools));
        BufferedReader responses = new BufferedReader(new InputStreamReader(clientReads, StandardCharsets.UTF_8));

        send(
                clientWrites,
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                        + "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}");
        assertThat(responses.readLine()).contains("\"id\":1", "\"protocolVersion\":\"2025-11-25\"");
        send(clientWrites, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
        send(
                clientWrites,
                "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\","
                        + "\"arguments\":{\"text\":\"hi\"}}}");
        assertThat(responses.readLine()).contains("\"id\":2", "echo:hi");
        // methods the server does not serve: refused with the reason code, audited, the session goes on
        send(
                clientWrites,
                "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/read\",\"params\":{\"uri\":\"file:///etc/passwd\"}}");
        assertThat(responses.readLine()).contains("\"id\":3", "-32601", "METHOD_NOT_SERVED", "resources/read");
        send(clientWrites, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"completion/complete\\n\",\"params\":{}}");
        assertThat(responses.readLine()).contains("\"id\":4", "METHOD_NOT_SERVED", "completion/complete\\\\u000a");
        // a tools/call without a name is one call record, refused, not an SDK error
        send(clientWrites, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"arguments\":{}}}");
        assertThat(responses.readLine()).contains("\"id\":5", "TOOL_NOT_ALLOWED", "\"isError\":true");
        clientWrites.close();

        assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(SecureStdioServer.EXIT_OK);
        assertThat(audit.events().get(0).kind()).isEqualTo(AuditEvent.Kind.START);
        assertThat(audit.events().subList(1, audit.events().size()))
                .extracting(AuditEvent::kind, AuditEvent::tool, AuditEvent::reason)
                .containsExactly(
                        tuple(AuditEvent.Kind.CALL, "echo", ReasonCode.ALLOWED),
                        tuple(AuditEvent.Kind.MESSAGE, null, ReasonCode.METHOD_NOT_SERVED),
                        tuple(AuditEvent.Kind.MESSAGE, null, ReasonCode.METHOD_NOT_SERVED),
                        tuple(AuditEvent.Kind.CALL, "", ReasonCode.TOOL_NOT_ALLOWED));
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("mcp-secure preflight for mcp-server:");
    }

    private static void send(OutputStream out, String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    @Test
    void enforcedPreflightRefusesToStartOnAFailureAndReportOnlyLogs(@TempDir Path dir) throws IOException {
        Path proc = Files.createDirectories(dir.resolve("proc"));
        Files.writeString(proc.resolve("status"), "Uid:\t0\t0\t0\t0\nNoNewPrivs:\t1\nCapEff:\t0\nSeccomp:\t2\n");
        Preflight.Runtime asRoot = new Preflight.Runtime(proc, Map.of(), dir.resolve("no-home"), List.of());
        Path enforce = dir.resolve("enforce.yaml");
        Files.writeString(enforce, "tools:\n  - name: echo\npreflight:\n  mode: enforce\n");
        Path report = dir.resolve("report.yaml");
        Files.writeString(report, "tools:\n  - name: echo\npreflight:\n  mode: report\n");

        int refused = runWithoutInput(new String[] {"--policy", enforce.toString()}, Map.of(), asRoot);
        int started = runWithoutInput(new String[] {"--policy", report.toString()}, Map.of(), asRoot);

        assertThat(refused).isEqualTo(SecureStdioServer.EXIT_PREFLIGHT_FAILED);
        assertThat(started).isEqualTo(SecureStdioServer.EXIT_OK);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("FAIL    non_root            runs as root (uid 0)")
                .contains("the server did not start: preflight failed and the policy's preflight mode is enforce");
        assertThat(audit.reasons()).containsExactly(ReasonCode.PREFLIGHT_FAILED, ReasonCode.PREFLIGHT_FAILED);
    }

    @Test
    void anInvalidPolicyListsEveryProblemAndDoesNotStart(@TempDir Path dir) throws IOException {
        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, "tools:\n  - name: echo\n    timeout: soon\ntransport:\n  bind: 0.0.0.0\n");

        assertThat(runWithoutInput(new String[] {"--policy", policy.toString()}, Map.of()))
                .isEqualTo(SecureStdioServer.EXIT_INVALID_POLICY);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("invalid policy, 2 problems:")
                .contains("the server did not start")
                .contains("tools[0].timeout: 'soon' is not a duration")
                .contains("transport.bind");
        assertThat(audit.events()).isEmpty();
    }

    @Test
    void thePolicyCanComeFromTheEnvironmentAndMustExist(@TempDir Path dir) {
        assertThat(runWithoutInput(new String[0], Map.of())).isEqualTo(SecureStdioServer.EXIT_USAGE);
        assertThat(runWithoutInput(new String[] {"--policy"}, Map.of())).isEqualTo(SecureStdioServer.EXIT_USAGE);
        assertThat(runWithoutInput(
                        new String[0],
                        Map.of(
                                SecureStdioServer.POLICY_ENV,
                                dir.resolve("missing.yaml").toString())))
                .isEqualTo(SecureStdioServer.EXIT_NO_INPUT);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("usage: <server> --policy <policy.yaml>")
                .contains("no such policy file");
    }
}
