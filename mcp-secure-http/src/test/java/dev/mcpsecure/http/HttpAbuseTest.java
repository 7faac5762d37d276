package dev.mcpsecure.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.ToolPolicy;
import dev.mcpsecure.api.TransportPolicy;
import dev.mcpsecure.core.SecureMcpServer;
import dev.mcpsecure.testkit.RecordingAuditSink;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;

/**
 * The HTTP transport under abuse, on a real Jetty on loopback: each refusal has its status, a
 * JSON-RPC error body and an audit line, and the server still serves a valid call afterwards.
 */
class HttpAbuseTest {

    private static final long CAP = 16 * 1024;

    private final RecordingAuditSink audit = new RecordingAuditSink();
    private final AtomicLong clock = new AtomicLong();
    private SecureHttpServer http;
    private URI endpoint;

    @BeforeEach
    void start() {
        SecurityPolicy policy = SecurityPolicy.builder()
                .server("abused", "")
                .tool(ToolPolicy.readOnly("echo"))
                .transport(TransportPolicy.builder()
                        .maxSessions(3)
                        .sessionIdleTimeout(Duration.ofSeconds(30))
                        .readTimeout(Duration.ofSeconds(3))
                        .build())
                .build();
        SecureMcpServer.Builder server =
                SecureMcpServer.builder(policy).auditSink(audit).tool(HttpFixture.tool("echo", request -> "hello"));
        http = SecureHttpServer.builder(server, policy)
                .maxRequestBytes(CAP)
                .sessionClock(clock::get)
                .start();
        endpoint = http.endpoint();
    }

    @AfterEach
    void stop() {
        http.close();
    }

    /** A fresh session answers a tools/call: the server is still serving. */
    private void assertStillServes() {
        String session = McpHttp.session(endpoint, null);
        McpHttp.Answer call = McpHttp.post(
                endpoint, null, session, Map.of("MCP-Protocol-Version", "2025-11-25"), McpHttp.call(9, "echo"));
        assertThat(call.status()).isEqualTo(200);
        assertThat(call.firstText()).isEqualTo("hello");
    }

    private AuditEvent lastAudit(ReasonCode reason) {
        return audit.events().stream()
                .filter(event -> event.reason() == reason)
                .reduce((first, second) -> second)
                .orElseThrow(() -> new AssertionError("no " + reason + " audit line in " + audit.reasons()));
    }

    private static void assertJsonRpcError(JsonNode body, int code, ReasonCode reason) {
        assertThat(body.path("jsonrpc").asString()).isEqualTo("2.0");
        assertThat(body.get("id").isNull()).isTrue();
        assertThat(body.path("error").path("code").asInt()).isEqualTo(code);
        assertThat(body.path("error").path("message").asString()).startsWith(reason.name() + ": ");
    }

    /** Sends raw bytes on a fresh connection and returns everything the server answers. */
    private String raw(String head, byte[] body) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), http.port())) {
            socket.setSoTimeout(15_000);
            OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            socket.shutdownOutput();
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            McpHttp.assertNoInternals(response);
            return response;
        }
    }

    private String postHead(String extraHeaders) {
        return "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:" + http.port()
                + "\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
                + extraHeaders + "\r\n";
    }

    private static JsonNode bodyOf(String response) {
        return McpHttp.JSON.readTree(response.substring(response.indexOf("\r\n\r\n") + 4));
    }

    @Test
    void withoutAuthenticationASessionIsHeldByItsClient() {
        Map<String, String> a = Map.of("MCP-Protocol-Version", "2025-11-25", "User-Agent", "client-a/1");
        Map<String, String> b = Map.of("MCP-Protocol-Version", "2025-11-25", "User-Agent", "client-b/1");
        McpHttp.Answer init =
                McpHttp.post(endpoint, null, null, Map.of("User-Agent", "client-a/1"), McpHttp.initialize(1));
        String session = init.header("mcp-session-id");
        audit.clear();

        McpHttp.Answer other = McpHttp.post(endpoint, null, session, b, McpHttp.call(2, "echo"));

        assertThat(other.status()).as("answered as an unknown session").isEqualTo(404);
        assertThat(audit.reasons()).containsExactly(ReasonCode.SESSION_NOT_OWNED);
        McpHttp.Answer own = McpHttp.post(endpoint, null, session, a, McpHttp.call(3, "echo"));
        assertThat(own.status()).isEqualTo(200);
        assertThat(own.firstText()).isEqualTo("hello");
    }

    @Test
    void aDeclaredBodyOverTheCapIs413BeforeTheBodyIsRead() throws IOException {
        String response =
                raw(postHead("Content-Length: 10485760\r\n"), "{\"jsonrpc\":".getBytes(StandardCharsets.UTF_8));

        assertThat(response).startsWith("HTTP/1.1 413");
        assertJsonRpcError(bodyOf(response), -32600, ReasonCode.REQUEST_TOO_LARGE);
        assertThat(lastAudit(ReasonCode.REQUEST_TOO_LARGE).detail()).contains("10485760 bytes");
        assertStillServes();
    }

    @Test
    void aChunkedBodyOverTheCapIs413AfterReadingOnlyTheCap() throws IOException {
        byte[] chunk = ("{\"pad\":\"" + "x".repeat((int) CAP) + "\"}").getBytes(StandardCharsets.UTF_8);
        String chunked = Integer.toHexString(chunk.length) + "\r\n" + new String(chunk, StandardCharsets.UTF_8)
                + "\r\n0\r\n\r\n";

        String response = raw(postHead("Transfer-Encoding: chunked\r\n"), chunked.getBytes(StandardCharsets.UTF_8));

        assertThat(response).startsWith("HTTP/1.1 413");
        assertJsonRpcError(bodyOf(response), -32600, ReasonCode.REQUEST_TOO_LARGE);
        assertStillServes();
    }

    @Test
    void malformedJsonIs400WithAParseError() {
        McpHttp.Answer answer = McpHttp.post(endpoint, null, null, Map.of(), "{\"jsonrpc\":\"2.0\",\"id\":1,");

        assertThat(answer.status()).isEqualTo(400);
        assertJsonRpcError(answer.json(), -32700, ReasonCode.MALFORMED_MESSAGE);
        assertThat(lastAudit(ReasonCode.MALFORMED_MESSAGE).detail()).contains("HTTP 400", "not JSON");
        assertStillServes();
    }

    @Test
    void jsonThatIsNoJsonRpcMessageIs400WithAnInvalidRequest() {
        McpHttp.Answer answer = McpHttp.post(endpoint, null, null, Map.of(), "42");

        assertThat(answer.status()).isEqualTo(400);
        assertJsonRpcError(answer.json(), -32600, ReasonCode.MALFORMED_MESSAGE);
        assertStillServes();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "an object with neither method nor result | {\"jsonrpc\":\"2.0\",\"id\":5}",
                "an object id | {\"jsonrpc\":\"2.0\",\"id\":{\"x\":1},\"method\":\"ping\"}",
                "initialize whose capabilities are a string | {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
                        + "\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":\"x\",\"clientInfo\":"
                        + "{\"name\":\"n\",\"version\":\"1\"}}}",
            })
    void aRequestTheSdkRefusesGetsOurErrorNeverItsInternals(String why, String body) {
        boolean initialize = body.contains("initialize");
        String session = initialize ? null : McpHttp.session(endpoint, null);
        audit.clear();

        McpHttp.Answer answer =
                McpHttp.post(endpoint, null, session, Map.of("MCP-Protocol-Version", "2025-11-25"), body);

        assertThat(answer.status()).as(why).isBetween(400, 499);
        assertThat(answer.response().body())
                .as(why)
                .doesNotContain("Exception", "\tat ", ".java", "io.modelcontextprotocol", "tools.jackson");
        assertJsonRpcError(answer.json(), -32600, ReasonCode.MALFORMED_MESSAGE);
        assertThat(answer.json()
                        .path("error")
                        .path("data")
                        .path("dev.mcpsecure/reason")
                        .asString())
                .isEqualTo("MALFORMED_MESSAGE");
        assertThat(audit.reasons()).as(why).contains(ReasonCode.MALFORMED_MESSAGE);
        assertStillServes();
    }

    @Test
    void anUnknownSessionIs404() {
        McpHttp.Answer answer = McpHttp.post(
                endpoint,
                null,
                "no-such-session",
                Map.of("MCP-Protocol-Version", "2025-11-25"),
                McpHttp.call(2, "echo"));

        assertThat(answer.status()).isEqualTo(404);
        assertJsonRpcError(answer.json(), -32600, ReasonCode.SESSION_UNKNOWN);
        assertThat(lastAudit(ReasonCode.SESSION_UNKNOWN).detail()).contains("does not exist");
        assertStillServes();
    }

    @Test
    void anIdleSessionExpiresAndIsDeletedAtTheSdk() throws Exception {
        String session = McpHttp.session(endpoint, null);
        assertThat(http.liveSessions()).isEqualTo(1);
        clock.addAndGet(Duration.ofSeconds(31).toNanos());

        McpHttp.Answer answer = McpHttp.post(
                endpoint, null, session, Map.of("MCP-Protocol-Version", "2025-11-25"), McpHttp.call(3, "echo"));

        assertThat(answer.status()).isEqualTo(404);
        assertJsonRpcError(answer.json(), -32600, ReasonCode.SESSION_UNKNOWN);
        assertThat(lastAudit(ReasonCode.SESSION_UNKNOWN).detail()).contains("expired");
        assertThat(http.liveSessions()).isZero();
        assertThat(McpHttp.post(
                                endpoint,
                                null,
                                session,
                                Map.of("MCP-Protocol-Version", "2025-11-25"),
                                McpHttp.call(4, "echo"))
                        .status())
                .as("still gone")
                .isEqualTo(404);
        assertStillServes();
    }

    @Test
    void anExpiredSessionIsEndedAtTheSdkInProcessClosingItsOpenStream() throws Exception {
        AtomicLong ownClock = new AtomicLong();
        SecurityPolicy policy = SecurityPolicy.builder()
                .server("idle", "")
                .tool(ToolPolicy.readOnly("echo"))
                .transport(TransportPolicy.builder()
                        .sessionIdleTimeout(Duration.ofSeconds(30))
                        .readTimeout(Duration.ofSeconds(60)) // no connection idle timeout ends the stream first
                        .build())
                .build();
        SecureHttpServer idle = SecureHttpServer.builder(
                        SecureMcpServer.builder(policy)
                                .auditSink(audit)
                                .tool(HttpFixture.tool("echo", request -> "hi")),
                        policy)
                .sessionClock(ownClock::get)
                .start();
        try {
            String session = McpHttp.session(idle.endpoint(), null);
            HttpClient client =
                    HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();
            CompletableFuture<Long> streamEnded = client.sendAsync(
                            HttpRequest.newBuilder(idle.endpoint())
                                    .header("Accept", "text/event-stream")
                                    .header("Mcp-Session-Id", session)
                                    .header("MCP-Protocol-Version", "2025-11-25")
                                    .GET()
                                    .build(),
                            HttpResponse.BodyHandlers.ofInputStream())
                    .thenApply(response -> {
                        try (InputStream body = response.body()) {
                            body.transferTo(OutputStream.nullOutputStream());
                        } catch (IOException e) {
                            // a reset ends the stream as well
                        }
                        return System.nanoTime();
                    });
            Thread.sleep(500);
            assertThat(streamEnded).as("the listening stream is open").isNotDone();

            ownClock.addAndGet(Duration.ofSeconds(31).toNanos());
            long expired = System.nanoTime();
            assertThat(McpHttp.post(
                                    idle.endpoint(),
                                    null,
                                    session,
                                    Map.of("MCP-Protocol-Version", "2025-11-25"),
                                    McpHttp.call(3, "echo"))
                            .status())
                    .isEqualTo(404);

            long ended = streamEnded.get(10, TimeUnit.SECONDS);
            assertThat(Duration.ofNanos(ended - expired))
                    .as("the SDK session was ended at once, not by a timeout")
                    .isLessThan(Duration.ofSeconds(10));
        } finally {
            idle.close();
        }
    }

    @Test
    void sessionsBeyondTheCapAre503UntilOneEnds() {
        String first = McpHttp.session(endpoint, null);
        McpHttp.session(endpoint, null);
        McpHttp.session(endpoint, null);

        McpHttp.Answer refused = McpHttp.post(endpoint, null, null, Map.of(), McpHttp.initialize(1));

        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.header("retry-after")).isEqualTo("30");
        assertJsonRpcError(refused.json(), -32600, ReasonCode.SESSION_LIMIT);
        assertThat(lastAudit(ReasonCode.SESSION_LIMIT).detail()).contains("maximum of 3 live sessions");

        assertThat(McpHttp.delete(endpoint, first).status()).isEqualTo(200);
        assertThat(http.liveSessions()).isEqualTo(2);
        assertStillServes();
    }

    @Test
    void aClientTricklingItsBodyIsCutOffAndHoldsNoWorker() throws Exception {
        long started = System.nanoTime();
        StringBuilder response = new StringBuilder();
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), http.port())) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            out.write(postHead("Content-Length: 4000\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertStillServes(); // while this connection waits for its body, others are served
            InputStream in = socket.getInputStream();
            try {
                for (int i = 0; i < 25 && in.available() == 0; i++) {
                    out.write('x');
                    out.flush();
                    Thread.sleep(1_000);
                }
            } catch (IOException closed) {
                // the server closed the connection while we were still trickling
            }
            response.append(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException reset) {
            // reset by the server: also cut off
        }
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertThat(took).as("cut off well before the 4,000 bytes trickled in").isLessThan(Duration.ofSeconds(20));
        if (response.length() > 0) {
            assertThat(response.toString()).startsWith("HTTP/1.1 408");
        }
        assertThat(lastAudit(ReasonCode.TIMEOUT).detail()).contains("HTTP 408", "1024 bytes a second");
        assertStillServes();
    }
}
