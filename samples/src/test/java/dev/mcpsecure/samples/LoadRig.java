package dev.mcpsecure.samples;

import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.core.PolicyLoader;
import dev.mcpsecure.core.SecureMcpServer;
import dev.mcpsecure.http.SecureHttpServer;
import dev.mcpsecure.testkit.OpenBaoServer;
import dev.mcpsecure.testkit.RecordingAuditSink;
import io.modelcontextprotocol.json.TypeRef;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * The HTTP-API sample served in this JVM for load and fault tests: a real OpenBao mints the
 * clients' bearer tokens (for this server's resource) and, through the server's own AppRole login
 * and {@code VaultTokenSource}, the tokens fetch_json sends to the sample API; the sample's policy
 * and lockfile, with limits raised for many clients.
 */
final class LoadRig implements AutoCloseable {

    final OpenBaoServer bao;
    final RecordingAuditSink audit = new RecordingAuditSink();
    final String resource;
    final String token;
    final String weather;
    final SampleApi api;
    final SecureHttpServer http;
    private final Duration egressTokenTtl;
    private final OpenBaoServer.AppRole serverLogin;

    /** @param egressTokenTtl how long the tokens fetch_json sends live */
    LoadRig(OpenBaoServer bao, Path tmp, Duration egressTokenTtl) throws IOException {
        this.bao = bao;
        this.egressTokenTtl = egressTokenTtl;
        int port = freePort();
        resource = "http://127.0.0.1:" + port + "/mcp";
        bao.identityTokenRole("mcp", "load-client", resource, Duration.ofMinutes(30));
        bao.policy("load-client", "path \"identity/oidc/token/load-client\" { capabilities = [\"read\"] }");
        OpenBaoServer.AppRole client =
                bao.appRole("load-client", List.of("load-client"), Duration.ofMinutes(30), Duration.ofHours(1));
        serverLogin = provisionServer(null);
        Path roleId = Files.writeString(tmp.resolve("role-id"), serverLogin.roleId());
        Path secretId = Files.writeString(tmp.resolve("secret-id"), serverLogin.secretId());
        token = (String) OpenBaoServer.data(bao.call("GET", "identity/oidc/token/load-client", null, login(client)))
                .get("token");
        String issuer = (String) claims(token).get("iss");
        api = SampleApi.start(0);
        weather = "http://127.0.0.1:" + api.port() + "/v1/weather?city=Oslo";
        Path policyFile = SamplePolicy.copy(
                tmp,
                "http-api.yaml",
                text -> text.replace("port: " + SampleApi.DEFAULT_PORT, "port: " + api.port())
                                // the sample's limits are for one person at a keyboard
                                .replace("    rateLimit: 30/1m", "    rateLimit: 1000000/1m\n    maxConcurrency: 256")
                        // every load client calls with the same service principal's token, one session each
                        + "\nlimits:\n  maxConcurrentCalls: 256\ntransport:\n  maxSessions: 1000\n"
                        + "  maxSessionsPerPrincipal: 1000\n  auth:\n"
                        + "    resource: " + resource + "\n    issuer: " + issuer + "\n    jwksUrl: "
                        + bao.address() + "/v1/identity/oidc/.well-known/keys\n");
        SecurityPolicy policy = PolicyLoader.load(policyFile);
        SecureMcpServer.Builder builder = SecureMcpServer.builder(policy).auditSink(audit);
        HttpApiServer.register(
                builder,
                Map.of(
                        "VAULT_ADDR", bao.address(),
                        "MCP_SECURE_VAULT_ROLE_ID_FILE", roleId.toString(),
                        "MCP_SECURE_VAULT_SECRET_ID_FILE", secretId.toString()));
        http = SecureHttpServer.builder(builder, policy).port(port).start();
    }

    /**
     * The server's vault side, on a fresh OpenBao at the same address: its ACL policy, the role
     * minting tokens for the sample API, and its AppRole with {@code reuse}'s ids when given.
     */
    OpenBaoServer.AppRole provisionServer(OpenBaoServer.AppRole reuse) {
        bao.identityTokenRole("mcp", "weather-reader", SampleApi.AUDIENCE, egressTokenTtl);
        bao.policy("http-api-server", "path \"identity/oidc/token/weather-reader\" { capabilities = [\"read\"] }");
        return reuse == null
                ? bao.appRole(
                        "http-api-server", List.of("http-api-server"), Duration.ofMinutes(30), Duration.ofHours(1))
                : bao.appRole(
                        "http-api-server",
                        List.of("http-api-server"),
                        Duration.ofMinutes(30),
                        Duration.ofHours(1),
                        reuse);
    }

    /** After {@code bao.start()}: the server's vault side again, with the ids its files hold. */
    void reprovisionServer() {
        provisionServer(serverLogin);
    }

    @SuppressWarnings("unchecked")
    private String login(OpenBaoServer.AppRole role) {
        return (String) ((Map<String, Object>) bao.call(
                                "POST",
                                "auth/approle/login",
                                Map.of("role_id", role.roleId(), "secret_id", role.secretId()),
                                "")
                        .get("auth"))
                .get("client_token");
    }

    static Map<String, Object> claims(String jwt) throws IOException {
        return PythonDriver.JSON.readValue(
                new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]), StandardCharsets.UTF_8),
                new TypeRef<Map<String, Object>>() {});
    }

    static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return probe.getLocalPort();
        }
    }

    @Override
    public void close() {
        try {
            http.close();
        } finally {
            api.close();
        }
    }
}
