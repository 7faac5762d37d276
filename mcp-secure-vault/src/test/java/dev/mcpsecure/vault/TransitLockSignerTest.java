package dev.mcpsecure.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mcpsecure.api.PinningPolicy;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.ToolPolicy;
import dev.mcpsecure.core.PinningException;
import dev.mcpsecure.core.SecureMcpServer;
import dev.mcpsecure.testkit.InMemoryTransport;
import dev.mcpsecure.testkit.OpenBaoServer;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lockfiles signed by a key in a real OpenBao's transit engine, verified by a server whose policy
 * names the exported public key: ES256 and RS256 keys, a tampered lockfile, a login the vault
 * does not let sign.
 */
class TransitLockSignerTest {

    @RegisterExtension
    static final OpenBaoServer bao = new OpenBaoServer();

    @TempDir
    static Path dir;

    static Path roleIdFile;
    static Path secretIdFile;

    @BeforeAll
    static void provision() throws Exception {
        bao.call("POST", "sys/mounts/transit", Map.of("type", "transit"));
        bao.call("POST", "transit/keys/lock-ec", Map.of("type", "ecdsa-p256"));
        bao.call("POST", "transit/keys/lock-rsa", Map.of("type", "rsa-2048"));
        bao.policy(
                "lock-signer",
                "path \"transit/sign/lock-*\" { capabilities = [\"update\"] }\n"
                        + "path \"transit/keys/lock-*\" { capabilities = [\"read\"] }");
        OpenBaoServer.AppRole signer =
                bao.appRole("lock-signer", List.of("lock-signer"), Duration.ofMinutes(10), Duration.ofHours(1));
        roleIdFile = dir.resolve("role-id");
        secretIdFile = dir.resolve("secret-id");
        Files.writeString(roleIdFile, signer.roleId());
        Files.writeString(secretIdFile, signer.secretId());
    }

    private static Map<String, String> env() {
        return Map.of(
                "VAULT_ADDR", bao.address(),
                "MCP_SECURE_VAULT_ROLE_ID_FILE", roleIdFile.toString(),
                "MCP_SECURE_VAULT_SECRET_ID_FILE", secretIdFile.toString());
    }

    private static SyncToolSpecification tool() {
        return SyncToolSpecification.builder()
                .tool(McpSchema.Tool.builder("read_file", Map.of("type", "object"))
                        .description("Reads a file.")
                        .build())
                .callHandler((exchange, request) -> CallToolResult.builder()
                        .addTextContent("ok")
                        .isError(false)
                        .build())
                .build();
    }

    private static SecurityPolicy policy(Path lockfile, Path publicKey) {
        return SecurityPolicy.builder()
                .server("signed", "")
                .tool(ToolPolicy.readOnly("read_file"))
                .pinning(new PinningPolicy(
                        PinningPolicy.Mode.ENFORCE,
                        Optional.of(lockfile),
                        PinningPolicy.Lint.REPORT,
                        Optional.of(PinningPolicy.SignatureKey.file(publicKey))))
                .build();
    }

    private static void start(SecurityPolicy policy) {
        SecureMcpServer.builder(policy)
                .tool(tool())
                .build(InMemoryTransport.create().serverProvider())
                .sync()
                .close();
    }

    @Test
    void aLockfileSignedInTransitStartsTheServerAndATamperedOneDoesNot() throws Exception {
        for (String key : List.of("lock-ec", "lock-rsa")) {
            Path folder = Files.createDirectories(dir.resolve(key));
            Path lockfile = folder.resolve("mcp-secure.lock");
            Path publicKey = folder.resolve("lock.pub.pem");
            SecurityPolicy policy = policy(lockfile, publicKey);
            SecureMcpServer.builder(policy).tool(tool()).lock().write(lockfile);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();

            int exit = TransitLockSigner.run(
                    new String[] {"--lockfile", lockfile.toString(), "--key", key, "--public-key", publicKey.toString()
                    },
                    env(),
                    new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8));

            assertThat(exit)
                    .as(key + ": " + err.toString(StandardCharsets.UTF_8))
                    .isZero();
            String jws = Files.readString(folder.resolve("mcp-secure.lock.jws"));
            assertThat(jws).as(key).matches("[A-Za-z0-9_-]+\\.\\.[A-Za-z0-9_-]+\\n");
            assertThat(Files.readString(publicKey)).startsWith("-----BEGIN PUBLIC KEY-----");
            start(policy);

            Files.writeString(lockfile, Files.readString(lockfile).replace("\"signed\"", "\"signed\"\t"));
            assertThatThrownBy(() -> start(policy))
                    .as(key + ": tampered")
                    .isInstanceOf(PinningException.class)
                    .hasMessageContaining("does not verify against the policy's key");
        }
    }

    @Test
    void aLoginTheVaultDoesNotLetSignGetsATypedRefusal() throws Exception {
        bao.policy("no-transit", "path \"secret/data/nothing\" { capabilities = [\"read\"] }");
        OpenBaoServer.AppRole other =
                bao.appRole("no-transit", List.of("no-transit"), Duration.ofMinutes(10), Duration.ofHours(1));
        Path roleId = dir.resolve("other-role-id");
        Path secretId = dir.resolve("other-secret-id");
        Files.writeString(roleId, other.roleId());
        Files.writeString(secretId, other.secretId());
        try (VaultLogin login = VaultLogin.open(
                VaultSettings.of(bao.address()),
                new dev.mcpsecure.api.ServerIdentity("not-a-signer", ""),
                VaultCredentials.appRole(roleId, secretId))) {
            TransitLockSigner signer = TransitLockSigner.create(login, "transit", "lock-ec");

            assertThatThrownBy(() -> signer.sign("{}".getBytes(StandardCharsets.UTF_8)))
                    .isInstanceOf(PolicyViolationException.class)
                    .satisfies(e -> assertThat(
                                    ((PolicyViolationException) e).decision().reason())
                            .isEqualTo(ReasonCode.VAULT_UNAVAILABLE))
                    .hasMessageContaining("transit key transit/lock-ec");
            assertThat(signer.toString()).isEqualTo("TransitLockSigner[transit/lock-ec]");
            assertThatThrownBy(() -> TransitLockSigner.create(login, "transit", "../sys/raw"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("must be a plain name");
        }
    }
}
