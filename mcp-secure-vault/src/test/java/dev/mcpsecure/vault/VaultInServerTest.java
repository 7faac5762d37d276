package dev.mcpsecure.vault;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.api.SecretLocation;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.TokenAudience;
import dev.mcpsecure.api.TokenPolicy;
import dev.mcpsecure.api.ToolPolicy;
import dev.mcpsecure.core.SecureMcpServer;
import dev.mcpsecure.testkit.FaultyTcpProxy;
import dev.mcpsecure.testkit.InMemoryTransport;
import dev.mcpsecure.testkit.OpenBaoServer;
import dev.mcpsecure.testkit.RecordingAuditSink;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.TextContent;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The vault sources plugged into a {@link SecureMcpServer}, called by the SDK's own client over the
 * in-memory transport: a secret a tool returns is redacted, and a vault that does not answer
 * becomes a typed denial with its reason code in the result and the audit event — no stack trace.
 */
class VaultInServerTest {

    @RegisterExtension
    static final OpenBaoServer bao = new OpenBaoServer();

    @TempDir
    static Path dir;

    @AfterAll
    static void collectLog() {
        NoSecretInLogsTest.collect(bao.log());
    }

    static SecurityPolicy policy() {
        return SecurityPolicy.builder()
                .server("inserver", "")
                .tool(ToolPolicy.builder("read_db").risks(RiskClass.NETWORK).build())
                .tool(ToolPolicy.builder("call_api").risks(RiskClass.NETWORK).build())
                .tokens(new TokenPolicy(
                        Duration.ofMinutes(5),
                        Map.of(VaultFixture.API_A, new TokenAudience("inserver-a", Duration.ofSeconds(120)))))
                .secret("db-password", new SecretLocation("secret", "inserver/db", "password"))
                .build();
    }

    @Test
    void aVaultSecretReturnedByAToolIsRedactedAndAHungVaultIsATypedDenial() {
        VaultFixture fixture = new VaultFixture(bao, dir);
        VaultFixture.Login files = fixture.server("inserver", Duration.ofMinutes(10), Duration.ofHours(1), null);
        String password = Handled.value("pw-" + System.nanoTime());
        bao.kvPut("secret", "inserver/db", Map.of("password", password));
        RecordingAuditSink audit = new RecordingAuditSink();

        try (FaultyTcpProxy proxy = FaultyTcpProxy.to(bao.port());
                VaultLogin login = VaultLogin.open(
                        new VaultSettings(
                                URI.create(proxy.address()), "", Duration.ofMillis(500), Duration.ofSeconds(1)),
                        policy().server(),
                        files.credentials())) {
            SecureMcpServer.Builder builder = SecureMcpServer.builder(policy())
                    .auditSink(audit)
                    .tokenSource(VaultTokenSource.builder(login, policy())
                            .timeout(Duration.ofSeconds(2))
                            .build())
                    .secretSource(VaultSecretSource.create(login, policy()));
            var secrets = builder.secrets();
            var tokens = builder.tokens();
            builder.tool(
                    tool(
                            "read_db",
                            () -> "password is " + secrets.secret("db-password").value()),
                    RiskClass.NETWORK);
            builder.tool(
                    tool(
                            "call_api",
                            () -> "token of "
                                    + tokens.token(VaultFixture.API_A).value().length() + " chars"),
                    RiskClass.NETWORK);
            InMemoryTransport transport = InMemoryTransport.create();
            McpSyncServer server = builder.build(transport.serverProvider()).sync();
            McpSyncClient client = McpClient.sync(transport.clientTransport())
                    .requestTimeout(Duration.ofSeconds(20))
                    .build();
            try {
                client.initialize();

                CallToolResult secret = call(client, "read_db");
                assertThat(secret.isError()).isFalse();
                assertThat(text(secret)).isEqualTo("password is [REDACTED]");

                proxy.hang();
                CallToolResult denied = call(client, "call_api");
                assertThat(denied.isError()).isTrue();
                assertThat(text(denied))
                        .startsWith("VAULT_UNAVAILABLE: ")
                        .contains(VaultFixture.API_A)
                        .doesNotContain("\tat ")
                        .doesNotContain("Exception");
                // each call: its secret or token as an effect of the call, then the call's record
                assertThat(audit.events())
                        .extracting(AuditEvent::kind, AuditEvent::action, AuditEvent::tool, AuditEvent::reason)
                        .containsExactly(
                                org.assertj.core.groups.Tuple.tuple(
                                        AuditEvent.Kind.EFFECT, "secret", "read_db", ReasonCode.ALLOWED),
                                org.assertj.core.groups.Tuple.tuple(
                                        AuditEvent.Kind.CALL, null, "read_db", ReasonCode.ALLOWED),
                                org.assertj.core.groups.Tuple.tuple(
                                        AuditEvent.Kind.EFFECT, "token", "call_api", ReasonCode.VAULT_UNAVAILABLE),
                                org.assertj.core.groups.Tuple.tuple(
                                        AuditEvent.Kind.CALL, null, "call_api", ReasonCode.VAULT_UNAVAILABLE));
                assertThat(audit.events().get(0).callId())
                        .isEqualTo(audit.events().get(1).callId());
                assertThat(audit.events().get(2).callId())
                        .isEqualTo(audit.events().get(3).callId());
                assertThat(audit.events().get(1).redactions()).isEqualTo(1);
            } finally {
                proxy.forward();
                client.close();
                server.close();
            }
        }
    }

    private static SyncToolSpecification tool(String name, Supplier<String> answer) {
        return SyncToolSpecification.builder()
                .tool(McpSchema.Tool.builder(name, Map.of("type", "object")).build())
                .callHandler((exchange, request) -> CallToolResult.builder()
                        .addTextContent(answer.get())
                        .isError(false)
                        .build())
                .build();
    }

    private static CallToolResult call(McpSyncClient client, String tool) {
        return client.callTool(CallToolRequest.builder(tool).arguments(Map.of()).build());
    }

    private static String text(CallToolResult result) {
        return ((TextContent) result.content().get(0)).text();
    }
}
