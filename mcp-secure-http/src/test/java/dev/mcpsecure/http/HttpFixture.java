package dev.mcpsecure.http;

import dev.mcpsecure.api.BearerAuthPolicy;
import dev.mcpsecure.api.EgressRule;
import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.TokenAudience;
import dev.mcpsecure.api.TokenPolicy;
import dev.mcpsecure.api.ToolPolicy;
import dev.mcpsecure.api.TransportPolicy;
import dev.mcpsecure.core.EgressHttpClient;
import dev.mcpsecure.core.SecureMcpServer;
import dev.mcpsecure.testkit.RecordingAuditSink;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A secured server on HTTP with bearer auth (keys pinned from {@link Tokens}): {@code echo} (no
 * scope), {@code admin_reset} (scope {@code admin}), and {@code relay}, which calls the API on
 * {@code apiPort} through {@link EgressHttpClient} with a token for {@code https://api.test}.
 */
final class HttpFixture implements AutoCloseable {

    static final String API_AUDIENCE = "https://api.test";

    /** Bearer tokens from {@link Tokens#ISSUER} for {@link Tokens#RESOURCE}. */
    static final BearerAuthPolicy AUTH = new BearerAuthPolicy(
            Tokens.RESOURCE,
            Tokens.ISSUER,
            "https://idp.test/jwks",
            List.of(Tokens.ISSUER),
            Duration.ofHours(1),
            Duration.ofSeconds(30));

    final RecordingAuditSink audit = new RecordingAuditSink();
    final SecurityPolicy policy;
    final SecureHttpServer http;

    HttpFixture(int apiPort, long maxRequestBytes) {
        policy = SecurityPolicy.builder()
                .server("http-test", "")
                .tool(ToolPolicy.builder("echo").build())
                .tool(ToolPolicy.builder("admin_reset").scopes("admin").build())
                .tool(ToolPolicy.builder("relay").risks(RiskClass.NETWORK).build())
                .egressRule(EgressRule.builder("127.0.0.1")
                        .scheme("http")
                        .port(apiPort)
                        .audience(API_AUDIENCE)
                        .allowAddresses("127.0.0.1/32")
                        .build())
                .tokens(new TokenPolicy(
                        Duration.ofMinutes(5), Map.of(API_AUDIENCE, new TokenAudience("api", Duration.ofMinutes(2)))))
                .transport(TransportPolicy.builder()
                        .allowOrigin("http://localhost:6274")
                        .auth(AUTH)
                        .build())
                .build();
        SecureMcpServer.Builder server = SecureMcpServer.builder(policy).auditSink(audit);
        EgressHttpClient egress = server.egress();
        server.tool(tool("echo", request -> "echo"))
                .tool(tool("admin_reset", request -> "reset done"))
                .tool(
                        tool("relay", request -> {
                            try {
                                return "api said "
                                        + egress.withTokenFor(API_AUDIENCE)
                                                .get("http://127.0.0.1:" + apiPort + "/headers")
                                                .status();
                            } catch (java.io.IOException e) {
                                throw new java.io.UncheckedIOException(e);
                            }
                        }),
                        RiskClass.NETWORK);
        http = SecureHttpServer.builder(server, policy)
                .maxRequestBytes(maxRequestBytes)
                .tokenVerifier(JwtTokenVerifier.builder(Tokens.ISSUER, Tokens.RESOURCE)
                        .keys(Tokens.JWKS)
                        .build())
                .start();
    }

    static SyncToolSpecification tool(String name, Function<McpSchema.CallToolRequest, String> answer) {
        return SyncToolSpecification.builder()
                .tool(McpSchema.Tool.builder(name, Map.of("type", "object")).build())
                .callHandler((exchange, request) -> CallToolResult.builder()
                        .addTextContent(answer.apply(request))
                        .isError(false)
                        .build())
                .build();
    }

    @Override
    public void close() {
        http.close();
    }
}
