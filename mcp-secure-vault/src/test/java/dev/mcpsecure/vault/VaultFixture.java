package dev.mcpsecure.vault;

import dev.mcpsecure.api.SecretLocation;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.TokenAudience;
import dev.mcpsecure.api.TokenPolicy;
import dev.mcpsecure.testkit.OpenBaoServer;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.TypeRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Provisions a real OpenBao for one server the way an operator would: an ACL policy allowing
 * exactly its identity-token roles and its KV path, an AppRole whose role_id and secret_id are
 * written to files, identity-token roles whose client_id is the audience, and OpenBao's file audit
 * device, which the tests read to count the requests that reached the server.
 */
final class VaultFixture {

    static final String API_A = "https://api-a.example";
    static final String API_B = "https://api-b.example";

    final OpenBaoServer bao;
    final Path dir;
    final Path auditLog;

    /** A server's AppRole credentials, as issued and as written to files. */
    record Login(OpenBaoServer.AppRole issued, Path roleIdFile, Path secretIdFile) {
        VaultCredentials credentials() {
            return VaultCredentials.appRole(roleIdFile, secretIdFile);
        }
    }

    /** Turns on the audit device of {@code bao}, writing into {@code dir}. */
    VaultFixture(OpenBaoServer bao, Path dir) {
        this.bao = bao;
        this.dir = dir;
        this.auditLog = dir.resolve("openbao-audit-" + System.nanoTime() + ".log");
        bao.fileAudit(auditLog);
    }

    /**
     * For {@code server}: an ACL policy allowing its identity roles and KV path, roles
     * {@code <server>-a}/{@code -b} minting 120 s tokens for A and B, and an AppRole (login tokens
     * living {@code loginTtl}, at most {@code loginMaxTtl}) whose ids are written to files. With
     * {@code reuse}, the AppRole gets those ids again (a fresh server, the client's old files).
     */
    Login server(String server, Duration loginTtl, Duration loginMaxTtl, Login reuse) {
        bao.policy(
                "mcp-" + server,
                "path \"identity/oidc/token/" + server + "-*\" { capabilities = [\"read\"] }\n" + "path \"secret/data/"
                        + server + "/*\" { capabilities = [\"read\"] }");
        bao.identityTokenRole("mcp", server + "-a", API_A, Duration.ofSeconds(120));
        bao.identityTokenRole("mcp", server + "-b", API_B, Duration.ofSeconds(120));
        List<String> policies = List.of("mcp-" + server);
        OpenBaoServer.AppRole issued = reuse == null
                ? bao.appRole(server, policies, loginTtl, loginMaxTtl)
                : bao.appRole(server, policies, loginTtl, loginMaxTtl, reuse.issued());
        Handled.value(issued.secretId());
        if (reuse != null) {
            return reuse;
        }
        Path roleIdFile = dir.resolve(server + ".role_id");
        Path secretIdFile = dir.resolve(server + ".secret_id");
        write(roleIdFile, issued.roleId());
        write(secretIdFile, issued.secretId());
        return new Login(issued, roleIdFile, secretIdFile);
    }

    VaultSettings settings() {
        return VaultSettings.of(bao.address());
    }

    /** A policy for {@code server}: A and B at 120 s tokens, and two secrets. */
    static SecurityPolicy policy(String server) {
        return SecurityPolicy.builder()
                .server(server, "")
                .tokens(new TokenPolicy(
                        Duration.ofMinutes(5),
                        Map.of(
                                API_A, new TokenAudience(server + "-a", Duration.ofSeconds(120)),
                                API_B, new TokenAudience(server + "-b", Duration.ofSeconds(120)))))
                .secret("db-password", new SecretLocation("secret", server + "/db", "password"))
                .secret("missing", new SecretLocation("secret", server + "/nothing-here", "password"))
                .secret("other-servers", new SecretLocation("secret", "someone-else/db", "password"))
                .build();
    }

    /** How many requests for {@code path} OpenBao's audit device has recorded. */
    long requests(String path) {
        return auditEntries().stream()
                .filter(entry -> "request".equals(entry.get("type")))
                .filter(entry -> path.equals(((Map<?, ?>) entry.get("request")).get("path")))
                .count();
    }

    List<Map<String, Object>> auditEntries() {
        try {
            if (!Files.exists(auditLog)) {
                return List.of();
            }
            return Files.readAllLines(auditLog).stream()
                    .filter(line -> !line.isBlank())
                    .map(VaultFixture::parse)
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, Object> parse(String line) {
        try {
            return McpJsonDefaults.getMapper().readValue(line, new TypeRef<Map<String, Object>>() {});
        } catch (IOException e) {
            throw new UncheckedIOException("an audit line is not JSON", e);
        }
    }

    static void write(Path file, String value) {
        try {
            Files.writeString(file, value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
