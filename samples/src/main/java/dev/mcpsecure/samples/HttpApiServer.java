package dev.mcpsecure.samples;

import static dev.mcpsecure.samples.SampleTools.argument;
import static dev.mcpsecure.samples.SampleTools.error;
import static dev.mcpsecure.samples.SampleTools.text;
import static dev.mcpsecure.samples.SampleTools.tool;

import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.core.EgressHttpClient;
import dev.mcpsecure.core.EgressRequest;
import dev.mcpsecure.core.EgressResponse;
import dev.mcpsecure.core.LocalTokenIssuer;
import dev.mcpsecure.core.SecureMcpServer;
import dev.mcpsecure.core.SecureStdioServer;
import dev.mcpsecure.http.SecureHttpLauncher;
import dev.mcpsecure.vault.VaultCredentials;
import dev.mcpsecure.vault.VaultLogin;
import dev.mcpsecure.vault.VaultSettings;
import dev.mcpsecure.vault.VaultTokenSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An MCP server whose one tool fetches JSON through {@link EgressHttpClient}, under
 * {@code samples/policies/http-api.yaml}: only {@code GET http://127.0.0.1:8089/v1/...} (the
 * {@link SampleApi}, allowed on loopback explicitly), with a token for the API's audience
 * ({@value SampleApi#AUDIENCE}); every other URL, address, scheme, redirect or audience is refused
 * with its reason code.
 *
 * <p>Tokens come from Vault/OpenBao when {@code VAULT_ADDR} (or {@code BAO_ADDR}) and the AppRole
 * files {@code MCP_SECURE_VAULT_ROLE_ID_FILE} and {@code MCP_SECURE_VAULT_SECRET_ID_FILE} are set
 * (the role {@code weather-reader} must mint for {@value SampleApi#AUDIENCE}; with {@value
 * #SECRET_ID_WRAPPED_ENV}{@code =true} the secret_id file holds a response-wrapping token, as
 * {@code vault apply} writes it); otherwise from the
 * embedded {@link LocalTokenIssuer}, whose public keys it writes to {@code SAMPLE_JWKS_FILE} when
 * that is set, so the {@link SampleApi} can verify them. It says which on stderr.
 *
 * <pre>
 * java -cp samples/target/mcp-secure-samples.jar dev.mcpsecure.samples.SampleApi &amp;
 * java -cp samples/target/mcp-secure-samples.jar dev.mcpsecure.samples.HttpApiServer \
 *     --policy samples/policies/http-api.yaml
 * </pre>
 *
 * <p>With {@code --port <n>} it serves streamable HTTP on {@code http://127.0.0.1:<n>/mcp}
 * instead (see {@link SecureHttpLauncher}); with {@code transport.auth} in the policy, callers
 * need a bearer token for the policy's resource.
 */
public final class HttpApiServer {

    /**
     * Set to {@code true} when {@code MCP_SECURE_VAULT_SECRET_ID_FILE} holds a response-wrapped
     * secret_id, as {@code vault apply} writes it: unwrapped once at start.
     */
    static final String SECRET_ID_WRAPPED_ENV = "MCP_SECURE_VAULT_SECRET_ID_WRAPPED";

    private HttpApiServer() {}

    /**
     * Serves stdio until stdin closes ({@link SecureStdioServer}), or HTTP with {@code --port}
     * until stopped ({@link SecureHttpLauncher}); see those for arguments and exit codes. {@code vault
     * plan|apply|check ...} runs {@link dev.mcpsecure.vault.VaultCommand} instead.
     */
    public static void main(String[] args) {
        boolean http = Arrays.asList(args).contains("--port");
        System.exit(SampleTools.launch(
                args,
                () -> http
                        ? SecureHttpLauncher.run(args, HttpApiServer::register)
                        : SecureStdioServer.run(args, HttpApiServer::register)));
    }

    /** Chooses the token source from this process's environment and adds fetch_json. */
    static void register(SecureMcpServer.Builder server) {
        register(server, System.getenv());
    }

    /** Chooses the token source from {@code env} (see the class description) and adds fetch_json. */
    static void register(SecureMcpServer.Builder server, Map<String, String> env) {
        SampleTelemetry.apply(server, env);
        tokenSource(server, env);
        EgressHttpClient http = server.egress();
        server.tool(
                tool(
                        "fetch_json",
                        // No URL in the text: the API's address is the policy's (the demo and tests move
                        // its port), and the lint flags any URL the policy's egress does not allow.
                        "Fetches a JSON document with GET from an API the server's egress policy allows, such as"
                                + " the sample weather API's /v1/weather?city=Oslo on the host and port the policy"
                                + " names, with a token for the API's audience (or the audience given; empty for"
                                + " none).",
                        List.of("url"),
                        List.of("audience"),
                        request -> {
                            String audience = argument(request, "audience", SampleApi.AUDIENCE);
                            EgressHttpClient client = audience.isEmpty() ? http : http.withTokenFor(audience);
                            EgressResponse response =
                                    client.send(EgressRequest.builder("GET", argument(request, "url", null))
                                            .header("Accept", "application/json")
                                            .build());
                            return response.status() / 100 == 2
                                    ? text(response.bodyText())
                                    : error("the API answered " + response.status());
                        }),
                RiskClass.NETWORK);
    }

    private static void tokenSource(SecureMcpServer.Builder server, Map<String, String> env) {
        SecurityPolicy policy = server.policy();
        Optional<VaultSettings> vault = VaultSettings.fromEnvironment(env);
        String roleId = env.get("MCP_SECURE_VAULT_ROLE_ID_FILE");
        String secretId = env.get("MCP_SECURE_VAULT_SECRET_ID_FILE");
        if (vault.isPresent() && roleId != null && secretId != null) {
            VaultCredentials credentials = "true".equals(env.get(SECRET_ID_WRAPPED_ENV))
                    ? VaultCredentials.appRoleWrapped(Path.of(roleId), Path.of(secretId))
                    : VaultCredentials.appRole(Path.of(roleId), Path.of(secretId));
            VaultLogin login = VaultLogin.open(vault.get(), policy.server(), credentials);
            Runtime.getRuntime().addShutdownHook(new Thread(login::close, "vault-logout"));
            server.tokenSource(VaultTokenSource.create(login, policy));
            System.err.println(
                    "tokens: minted by Vault/OpenBao at " + vault.get().address());
            return;
        }
        LocalTokenIssuer issuer = LocalTokenIssuer.create(policy);
        server.tokenSource(issuer);
        String jwksFile = env.get("SAMPLE_JWKS_FILE");
        if (jwksFile != null && !jwksFile.isBlank()) {
            writeAtomically(Path.of(jwksFile), issuer.jwksJson());
        }
        System.err.println("tokens: minted by the embedded LocalTokenIssuer (" + issuer.issuer()
                + "), since no VAULT_ADDR/BAO_ADDR with AppRole files is set");
    }

    private static void writeAtomically(Path file, String content) {
        try {
            Path temporary = Files.createTempFile(file.toAbsolutePath().getParent(), ".jwks-", ".tmp");
            Files.writeString(temporary, content);
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the issuer's public keys to " + file, e);
        }
    }
}
