package dev.mcpsecure.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mcpsecure.testkit.OpenBaoServer;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.TypeRef;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The testkit's OpenBao fixture against the real server: AppRole login, an identity token whose
 * {@code aud} is the role's client id and whose lifetime is the role's TTL, KV v2, and a restart
 * that gives an empty server on the same address.
 */
class OpenBaoServerTest {

    @RegisterExtension
    static final OpenBaoServer bao = new OpenBaoServer();

    @Test
    void provisionsAppRoleIdentityTokensAndKv() throws Exception {
        bao.policy(
                "mint",
                "path \"identity/oidc/token/*\" { capabilities = [\"read\"] }\n"
                        + "path \"secret/data/app/*\" { capabilities = [\"read\"] }");
        bao.identityTokenRole("mcp", "api-reader", "https://api.example", Duration.ofMinutes(2));
        OpenBaoServer.AppRole credentials =
                bao.appRole("server-a", List.of("mint"), Duration.ofMinutes(5), Duration.ofMinutes(30));
        assertThat(credentials.toString()).doesNotContain(credentials.secretId());

        Map<String, Object> login = bao.call(
                "POST",
                "auth/approle/login",
                Map.of("role_id", credentials.roleId(), "secret_id", credentials.secretId()),
                "");
        @SuppressWarnings("unchecked")
        String token = (String) ((Map<String, Object>) login.get("auth")).get("client_token");
        assertThat(token).isNotBlank();

        String jwt = (String) OpenBaoServer.data(bao.call("GET", "identity/oidc/token/api-reader", null, token))
                .get("token");
        Map<String, Object> claims = McpJsonDefaults.getMapper()
                .readValue(
                        new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]), StandardCharsets.UTF_8),
                        new TypeRef<Map<String, Object>>() {});
        assertThat(claims).containsEntry("aud", "https://api.example");
        long lifetime = ((Number) claims.get("exp")).longValue() - ((Number) claims.get("iat")).longValue();
        assertThat(lifetime).isEqualTo(120);

        bao.kvPut("secret", "app/db", Map.of("password", "s3cr3t"));
        assertThat(OpenBaoServer.data(OpenBaoServer.data(bao.call("GET", "secret/data/app/db", null, token))))
                .containsEntry("password", "s3cr3t");
    }

    @Test
    void restartGivesAnEmptyServerOnTheSameAddress() {
        bao.policy("before-restart", "path \"secret/*\" { capabilities = [\"read\"] }");
        String address = bao.address();
        bao.stop();
        assertThatThrownBy(() -> bao.call("GET", "sys/policies/acl/before-restart", null))
                .isInstanceOf(IllegalStateException.class);
        bao.start();
        assertThat(bao.address()).isEqualTo(address);
        assertThatThrownBy(() -> bao.call("GET", "sys/policies/acl/before-restart", null))
                .hasMessageContaining("404");
    }
}
