package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.testkit.OpenBaoServer;
import dev.mcpsecure.testkit.PythonMcpClient;
import dev.mcpsecure.testkit.TypeScriptMcpClient;
import io.modelcontextprotocol.json.TypeRef;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP-API sample served on streamable HTTP as a real process, with bearer tokens minted by a
 * real OpenBao's identity OIDC: the official Python and TypeScript MCP clients connect with a
 * token for this server's resource and call a tool; a token minted for another audience is
 * refused; no token gets 401 naming the protected resource metadata, which names OpenBao.
 */
class HttpTransportIT {

    @RegisterExtension
    static final OpenBaoServer bao = new OpenBaoServer();

    @TempDir
    Path tmp;

    @Test
    void realClientsConnectWithAnAudienceBoundTokenAndAreRefusedWithoutOne() throws Exception {
        int port = LoadRig.freePort();
        String resource = "http://127.0.0.1:" + port + "/mcp";
        bao.identityTokenRole("mcp", "for-this-server", resource, Duration.ofMinutes(5));
        bao.identityTokenRole("mcp", "for-another-server", "https://other.example/mcp", Duration.ofMinutes(5));
        bao.policy("mcp-client", "path \"identity/oidc/token/*\" { capabilities = [\"read\"] }");
        OpenBaoServer.AppRole app =
                bao.appRole("mcp-client", List.of("mcp-client"), Duration.ofMinutes(10), Duration.ofHours(1));
        @SuppressWarnings("unchecked")
        String clientToken = (String) ((Map<String, Object>) bao.call(
                                "POST",
                                "auth/approle/login",
                                Map.of("role_id", app.roleId(), "secret_id", app.secretId()),
                                "")
                        .get("auth"))
                .get("client_token");
        String good = mint(clientToken, "for-this-server");
        String foreign = mint(clientToken, "for-another-server");
        String issuer = (String) LoadRig.claims(good).get("iss");
        assertThat(issuer).startsWith(bao.address());

        try (SampleApi api = SampleApi.start(0)) {
            Path policy = SamplePolicy.copy(
                    tmp,
                    "http-api.yaml",
                    text -> text.replace("port: " + SampleApi.DEFAULT_PORT, "port: " + api.port())
                            + "\ntransport:\n  auth:\n    resource: " + resource + "\n    issuer: " + issuer
                            + "\n    jwksUrl: " + bao.address() + "/v1/identity/oidc/.well-known/keys\n");
            Path log = tmp.resolve("server.log");
            Path auditFile = tmp.resolve("audit").resolve("http-api.jsonl");
            Process server = startHttpApi(policy, port, log, Map.of(AuditRecords.ENV, auditFile.toString()));
            try {

                String metadataUrl = "http://127.0.0.1:" + port + "/.well-known/oauth-protected-resource/mcp";
                HttpURLConnection anonymous =
                        (HttpURLConnection) URI.create(resource).toURL().openConnection(Proxy.NO_PROXY);
                anonymous.setRequestMethod("POST");
                anonymous.setDoOutput(true);
                anonymous.setRequestProperty("Content-Type", "application/json");
                anonymous.setRequestProperty("Accept", "application/json, text/event-stream");
                anonymous
                        .getOutputStream()
                        .write("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}".getBytes(StandardCharsets.UTF_8));
                assertThat(anonymous.getResponseCode()).isEqualTo(401);
                assertThat(anonymous.getHeaderField("WWW-Authenticate"))
                        .isEqualTo("Bearer resource_metadata=\"" + metadataUrl + "\"");
                HttpURLConnection metadataRequest =
                        (HttpURLConnection) URI.create(metadataUrl).toURL().openConnection(Proxy.NO_PROXY);
                String metadata;
                try (var in = metadataRequest.getInputStream()) {
                    metadata = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
                assertThat(metadata)
                        .contains("\"resource\":\"" + resource + "\"")
                        .contains(issuer);

                String weather = "http://127.0.0.1:" + api.port() + "/v1/weather?city=Oslo";
                Map<String, Object> python = python(resource, good, weather);
                Map<String, Object> typescript = typescript(resource, good, weather);
                for (Map<String, Object> run : List.of(python, typescript)) {
                    assertThat(run).doesNotContainKey("error");
                    assertThat(run.get("protocolVersion")).isEqualTo("2025-11-25");
                    assertThat(run.get("tools")).isEqualTo(List.of("fetch_json"));
                    @SuppressWarnings("unchecked")
                    Map<String, Object> call = ((List<Map<String, Object>>) run.get("calls")).get(0);
                    assertThat(PythonDriver.text(call)).contains("\"city\":\"Oslo\"");
                }
                assertThat(python(resource, foreign, weather).get("error").toString())
                        .contains("TOKEN_INVALID")
                        .contains("does not include this server");
                assertThat(typescript(resource, foreign, weather).get("error").toString())
                        .contains("TOKEN_INVALID")
                        .contains("does not include this server");
            } finally {
                server.destroy();
                assertThat(server.waitFor(20, TimeUnit.SECONDS))
                        .as("the server stops on SIGTERM")
                        .isTrue();
            }
            String output = Files.readString(log);
            List<Map<String, Object>> audit = AuditRecords.read(auditFile);
            String subject = (String) LoadRig.claims(good).get("sub");
            assertThat(AuditRecords.calls(audit))
                    .as("one call record for each client's call")
                    .hasSize(2)
                    .allSatisfy(line -> {
                        assertThat(line.get("tool")).isEqualTo("fetch_json");
                        assertThat(line.get("reason")).isEqualTo("ALLOWED");
                        assertThat(line.get("subject")).isEqualTo(subject);
                        assertThat(line.get("session")).isNotNull();
                    });
            assertThat(AuditRecords.effects(audit, "egress"))
                    .as("each call's one request to the API, an effect of that call with its subject")
                    .hasSize(2)
                    .allSatisfy(line -> {
                        assertThat(line.get("reason")).isEqualTo("ALLOWED");
                        assertThat(line.get("subject")).isEqualTo(subject);
                    });
            AuditRecords.assertEffectsCarryTheirCall(audit, "egress", "token");
            assertThat(audit)
                    .filteredOn(line -> "TOKEN_INVALID".equals(line.get("reason")))
                    .isNotEmpty()
                    .allSatisfy(line -> {
                        assertThat(line.get("kind")).isEqualTo("transport");
                        assertThat(line.get("detail").toString()).contains("does not include this server");
                    });
            assertThat(audit)
                    .filteredOn(line -> "TOKEN_MISSING".equals(line.get("reason")))
                    .singleElement()
                    .satisfies(line -> assertThat(line.get("kind")).isEqualTo("transport"));
            assertThat(output)
                    .as("no audit record in the server's log, where the SDK logs what clients send")
                    .doesNotContain(" dev.mcpsecure.audit ");
            assertThat(output + audit).doesNotContain(good).doesNotContain(foreign);
        }
    }

    private static Map<String, Object> python(String url, String token, String weather) {
        PythonMcpClient.Result result = PythonMcpClient.run(
                Path.of("src", "test", "python", "drive_http.py").toAbsolutePath(),
                List.of(plan(url, token, weather)),
                Duration.ofMinutes(2));
        return parse("python", result);
    }

    private static Map<String, Object> typescript(String url, String token, String weather) {
        PythonMcpClient.Result result = TypeScriptMcpClient.run(
                Path.of("src", "test", "node", "drive_http.mjs").toAbsolutePath(),
                List.of(plan(url, token, weather)),
                Duration.ofMinutes(2));
        return parse("node", result);
    }

    private static String plan(String url, String token, String weather) {
        try {
            return planJson(url, token, weather);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String planJson(String url, String token, String weather) throws IOException {
        return PythonDriver.JSON.writeValueAsString(Map.of(
                "url",
                url,
                "token",
                token,
                "calls",
                List.of(Map.of("tool", "fetch_json", "arguments", Map.of("url", weather)))));
    }

    private static Map<String, Object> parse(String client, PythonMcpClient.Result result) {
        assertThat(result.exitCode())
                .as("%s client failed:\n%s", client, result.stderr())
                .isZero();
        String last = result.stdout().strip().lines().reduce((a, b) -> b).orElse("{}");
        try {
            return PythonDriver.JSON.readValue(last, new TypeRef<Map<String, Object>>() {});
        } catch (IOException e) {
            throw new AssertionError(client + " printed no JSON: " + result.stdout() + result.stderr(), e);
        }
    }

    private static String mint(String clientToken, String role) {
        return (String) OpenBaoServer.data(bao.call("GET", "identity/oidc/token/" + role, null, clientToken))
                .get("token");
    }

    /** Waits until the launcher says it serves; fails naming the server's output if it exits or takes 30 s. */
    /**
     * Starts the HTTP-API sample serving HTTP on {@code port}, with {@code env} added to its
     * environment and its output in {@code log}; returns once it says it serves.
     */
    static Process startHttpApi(Path policy, int port, Path log, Map<String, String> env) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(PythonDriver.command(
                        "dev.mcpsecure.samples.HttpApiServer",
                        "--policy",
                        policy.toString(),
                        "--port",
                        String.valueOf(port)))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().putAll(env);
        Process server = builder.start();
        try {
            awaitServing(server, log);
        } catch (Exception | AssertionError e) {
            server.destroyForcibly();
            throw e;
        }
        return server;
    }

    static void awaitServing(Process server, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            String output = Files.exists(log) ? Files.readString(log) : "";
            if (output.contains("mcp-secure: serving")) {
                return;
            }
            if (!server.isAlive()) {
                throw new AssertionError("the server exited with " + server.exitValue() + ":\n" + output);
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the server did not report serving within 30 s:\n" + Files.readString(log));
    }
}
