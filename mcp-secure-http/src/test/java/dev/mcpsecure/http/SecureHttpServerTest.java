package dev.mcpsecure.http;

import static dev.mcpsecure.http.Tokens.rs256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.PinningPolicy;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.ToolPolicy;
import dev.mcpsecure.core.SecureMcpServer;
import dev.mcpsecure.testkit.LoopbackHttpServer;
import dev.mcpsecure.testkit.RecordingAuditSink;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** What a {@link SecureHttpServer} answers over real HTTP on loopback, beyond token verification. */
class SecureHttpServerTest {

    static LoopbackHttpServer api;
    static HttpFixture fixture;
    static URI endpoint;
    static final String USER = rs256(c -> c);
    static final String ADMIN = rs256(c -> c.claim("scope", "tools:read admin"));

    @BeforeAll
    static void start() {
        api = LoopbackHttpServer.start().route("/headers", request -> LoopbackHttpServer.Reply.json("{}"));
        fixture = new HttpFixture(api.port(), 64 * 1024);
        endpoint = fixture.http.endpoint();
    }

    @AfterAll
    static void stop() {
        fixture.close();
        api.close();
    }

    @BeforeEach
    void clearAudit() {
        fixture.audit.clear();
    }

    @Test
    void theProtectedResourceMetadataNamesTheResourceTheIssuerAndTheScopes() {
        for (String path :
                List.of("/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp")) {
            McpHttp.Answer answer = McpHttp.get(endpoint.resolve(path), Map.of());
            assertThat(answer.status()).isEqualTo(200);
            JsonNode document = answer.json();
            assertThat(document.path("resource").asString()).isEqualTo(Tokens.RESOURCE);
            assertThat(document.path("authorization_servers").get(0).asString()).isEqualTo(Tokens.ISSUER);
            assertThat(document.path("scopes_supported").toString()).contains("admin");
            assertThat(document.path("bearer_methods_supported").get(0).asString())
                    .isEqualTo("header");
        }
    }

    @Test
    void aToolNeedingAScopeTheTokenLacksIs403InsufficientScopeAndHiddenFromTheList() {
        String session = McpHttp.session(endpoint, USER);

        McpHttp.Answer call = post(USER, session, McpHttp.call(2, "admin_reset"));
        assertThat(call.status()).isEqualTo(403);
        assertThat(call.header("www-authenticate"))
                .startsWith("Bearer error=\"insufficient_scope\"")
                .contains("scope=\"admin\"")
                .contains("resource_metadata=");
        assertThat(fixture.audit.events())
                .extracting(AuditEvent::tool, AuditEvent::reason, AuditEvent::subject)
                .contains(org.assertj.core.groups.Tuple.tuple("admin_reset", ReasonCode.SCOPE_MISSING, "user-42"));

        assertThat(toolNames(post(USER, session, McpHttp.list(3)))).containsExactlyInAnyOrder("echo", "relay");
    }

    @Test
    void withTheScopeTheToolIsListedAndRuns() {
        String session = McpHttp.session(endpoint, ADMIN);

        assertThat(toolNames(post(ADMIN, session, McpHttp.list(2))))
                .containsExactlyInAnyOrder("echo", "relay", "admin_reset");
        McpHttp.Answer call = post(ADMIN, session, McpHttp.call(3, "admin_reset"));
        assertThat(call.status()).isEqualTo(200);
        assertThat(call.firstText()).isEqualTo("reset done");
    }

    @Test
    void aToolTheServerDoesNotListIsRefusedByTheGateAndAudited() {
        String session = McpHttp.session(endpoint, USER);

        McpHttp.Answer call = post(USER, session, McpHttp.call(2, "rm_rf"));

        assertThat(call.status()).isEqualTo(200);
        JsonNode result = call.json().path("result");
        assertThat(result.path("isError").asBoolean()).isTrue();
        assertThat(result.path("content").get(0).path("text").asString()).startsWith("TOOL_NOT_ALLOWED: ");
        assertThat(call.json().path("id").asInt()).isEqualTo(2);
        assertThat(fixture.audit.reasons()).contains(ReasonCode.TOOL_NOT_ALLOWED);
    }

    @Test
    void theIncomingTokenNeverLeavesTheServer() {
        String session = McpHttp.session(endpoint, USER);

        McpHttp.Answer call = post(USER, session, McpHttp.call(2, "relay"));

        assertThat(call.firstText()).isEqualTo("api said 200");
        LoopbackHttpServer.Received received = api.received().get(api.received().size() - 1);
        assertThat(received.headers().get("authorization"))
                .startsWith("Bearer ")
                .doesNotContain(USER);
        assertThat(received.headers().values()).noneMatch(value -> value.contains(USER));
        assertThat(new String(received.body(), java.nio.charset.StandardCharsets.UTF_8))
                .doesNotContain(USER);
    }

    @Test
    void aForeignOriginIsRefused() {
        McpHttp.Answer answer =
                McpHttp.post(endpoint, USER, null, Map.of("Origin", "https://evil.test"), McpHttp.initialize(1));
        assertThat(answer.status()).isEqualTo(403);
        assertThat(fixture.audit.reasons()).containsExactly(ReasonCode.ORIGIN_NOT_ALLOWED);

        McpHttp.Answer allowed =
                McpHttp.post(endpoint, USER, null, Map.of("Origin", "http://localhost:6274"), McpHttp.initialize(1));
        assertThat(allowed.status()).isEqualTo(200);
    }

    @Test
    void aRequestForAnotherHostIsRefused() {
        McpHttp.Answer answer = McpHttp.post(
                URI.create("http://localhost:" + fixture.http.port() + "/mcp"),
                USER,
                null,
                Map.of(),
                McpHttp.initialize(1));
        assertThat(answer.status()).as("localhost is this server").isEqualTo(200);
        assertThat(rawStatus(endpoint.getPort(), "evil.test:" + endpoint.getPort()))
                .isEqualTo(403);
        assertThat(fixture.audit.reasons()).contains(ReasonCode.HOST_NOT_ALLOWED);
    }

    @Test
    void anUnknownProtocolVersionIs400() {
        McpHttp.Answer answer =
                McpHttp.post(endpoint, USER, null, Map.of("MCP-Protocol-Version", "1999-01-01"), McpHttp.initialize(1));
        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.json().path("error").path("message").asString()).contains("1999-01-01");
        assertThat(fixture.audit.reasons()).containsExactly(ReasonCode.PROTOCOL_VERSION_UNSUPPORTED);
    }

    @Test
    void otherPathsAre404() {
        assertThat(McpHttp.get(endpoint.resolve("/admin"), Map.of()).status()).isEqualTo(404);
    }

    @Test
    void withoutAuthOnLoopbackTheSdksOwnClientConnectsListsAndCalls() {
        RecordingAuditSink audit = new RecordingAuditSink();
        SecurityPolicy policy = SecurityPolicy.builder()
                .server("open-loopback", "")
                .tool(ToolPolicy.builder("echo").build())
                .build();
        SecureMcpServer.Builder server =
                SecureMcpServer.builder(policy).auditSink(audit).tool(HttpFixture.tool("echo", request -> "hello"));
        try (SecureHttpServer http = SecureHttpServer.builder(server, policy).start()) {
            assertThat(McpHttp.get(http.endpoint().resolve("/.well-known/oauth-protected-resource"), Map.of())
                            .status())
                    .isEqualTo(404);
            McpSyncClient client = sdkClient(http);
            try {
                client.initialize();
                assertThat(client.listTools().tools())
                        .extracting(McpSchema.Tool::name)
                        .containsExactly("echo");
                McpSchema.CallToolResult result = client.callTool(McpSchema.CallToolRequest.builder("echo")
                        .arguments(Map.of())
                        .build());
                assertThat(((McpSchema.TextContent) result.content().get(0)).text())
                        .isEqualTo("hello");
            } finally {
                client.close();
            }
        }
        assertThat(audit.reasons()).as(audit.events().toString()).containsExactly(ReasonCode.ALLOWED);
    }

    @Test
    void onHttpTheGateRefusesDriftedAddedBehindItsBackAndReplacedTools(@TempDir Path dir) throws Exception {
        RecordingAuditSink audit = new RecordingAuditSink();
        Path lockfile = dir.resolve("mcp-secure.lock");
        SecurityPolicy policy = SecurityPolicy.builder()
                .server("pinned-http", "")
                .tool(ToolPolicy.builder("echo").build())
                .tool(ToolPolicy.builder("shout").build())
                .tool(ToolPolicy.builder("backdoor").build())
                .pinning(new PinningPolicy(
                        PinningPolicy.Mode.REPORT, Optional.of(lockfile), PinningPolicy.Lint.REPORT, Optional.empty()))
                .build();
        SecureMcpServer.builder(policy)
                .tool(HttpFixture.tool("echo", request -> "hello"))
                .tool(HttpFixture.tool("shout", request -> "HELLO"))
                .lock()
                .write(lockfile);
        SecureMcpServer.Builder server = SecureMcpServer.builder(policy)
                .auditSink(audit)
                .tool(HttpFixture.tool("echo", request -> "hello"))
                .tool(SyncToolSpecification.builder()
                        .tool(McpSchema.Tool.builder("shout", Map.of("type", "object"))
                                .description("changed after review")
                                .build())
                        .callHandler((exchange, request) -> {
                            throw new AssertionError("a drifted tool never runs");
                        })
                        .build());
        try (SecureHttpServer http = SecureHttpServer.builder(server, policy).start()) {
            http.mcpServer().addTool(HttpFixture.tool("backdoor", request -> "BACKDOOR RAN"));
            McpSyncClient client = sdkClient(http);
            try {
                client.initialize();
                assertThat(client.listTools().tools())
                        .extracting(McpSchema.Tool::name)
                        .containsExactly("echo");
                assertReason(client, "shout", ReasonCode.TOOL_DEFINITION_CHANGED);
                assertReason(client, "backdoor", ReasonCode.TOOL_NOT_ALLOWED);

                http.mcpServer().addTool(HttpFixture.tool("echo", request -> "RAW ECHO RAN"));
                assertThat(client.listTools().tools()).isEmpty();
                assertReason(client, "echo", ReasonCode.TOOL_DEFINITION_CHANGED);
            } finally {
                client.close();
            }
        }
        assertThat(audit.reasons()).doesNotContain(ReasonCode.ALLOWED);
    }

    /** The SDK's own streamable HTTP client for {@code http}, without a token. */
    private static McpSyncClient sdkClient(SecureHttpServer http) {
        return McpClient.sync(HttpClientStreamableHttpTransport.builder("http://127.0.0.1:" + http.port())
                        .endpoint("/mcp")
                        .build())
                .requestTimeout(Duration.ofSeconds(20))
                .build();
    }

    private static void assertReason(McpSyncClient client, String tool, ReasonCode reason) {
        McpSchema.CallToolResult result = client.callTool(
                McpSchema.CallToolRequest.builder(tool).arguments(Map.of()).build());
        assertThat(result.isError()).as(tool).isTrue();
        assertThat(((McpSchema.TextContent) result.content().get(0)).text()).startsWith(reason.name() + ": ");
    }

    @Test
    void aVerifierWithoutAuthInThePolicyIsRefusedAtStart() {
        SecurityPolicy policy = SecurityPolicy.denyAll();
        assertThatThrownBy(() -> SecureHttpServer.builder(SecureMcpServer.builder(policy), policy)
                        .tokenVerifier(token -> {
                            throw new AssertionError();
                        })
                        .start())
                .hasMessageContaining("transport.auth");
    }

    private static McpHttp.Answer post(String token, String session, String body) {
        return McpHttp.post(endpoint, token, session, Map.of("MCP-Protocol-Version", "2025-11-25"), body);
    }

    private static List<String> toolNames(McpHttp.Answer answer) {
        assertThat(answer.status()).isEqualTo(200);
        List<String> names = new java.util.ArrayList<>();
        answer.json()
                .path("result")
                .path("tools")
                .forEach(tool -> names.add(tool.path("name").asString()));
        return names;
    }

    /** Sends a request with a forged Host header over a plain socket (java.net.http refuses to). */
    private static int rawStatus(int port, String host) {
        String body = McpHttp.initialize(1);
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            String request = "POST /mcp HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\n"
                    + "Accept: application/json, text/event-stream\r\nAuthorization: Bearer " + USER
                    + "\r\nContent-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body;
            socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            String status =
                    new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream())).readLine();
            return Integer.parseInt(status.split(" ")[1]);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
