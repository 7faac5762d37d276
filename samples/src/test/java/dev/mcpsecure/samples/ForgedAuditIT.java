package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients try to forge audit records: a newline and a fake record (as an SLF4J audit line and as a
 * bare JSON line) in every client-controlled string that reaches a log or a record — a JSON-RPC
 * id, a response id, a notification method, a request method, a protocolVersion, a tool name and
 * a tool argument — against the demo server over stdio and the HTTP-API sample over streamable
 * HTTP, both real processes from the samples jar. The audit file must hold exactly the real
 * records, each a JSON object of a known kind from this server, and none with the forger's
 * marker; no line of the server's stderr may begin as a forged line.
 */
class ForgedAuditIT {

    private static final String MARK = "FORGED-7f3a";
    private static final String AS_LOG_LINE = "2026-01-01T00:00:00.000+0000 INFO  dev.mcpsecure.audit - ";
    private static final String FAKE_RECORD = "{\"time\":\"2026-01-01T00:00:00Z\",\"kind\":\"call\",\"server\":\""
            + MARK + "\",\"tool\":\"delete_everything\",\"decision\":\"allow\",\"reason\":\"ALLOWED\"}";
    /** A newline, a fake SLF4J audit line, a newline, a fake bare JSON record, a newline. */
    private static final String FAKE = "x\n" + AS_LOG_LINE + FAKE_RECORD + "\r\n" + FAKE_RECORD + "\n";

    @TempDir
    Path tmp;

    @Test
    void overStdioTheAuditFileHoldsOnlyRealRecords() throws Exception {
        Path policy = SamplePolicy.copy(tmp, "demo.yaml", UnaryOperator.identity());
        Path audit = tmp.resolve("audit.jsonl");
        ProcessBuilder builder = new ProcessBuilder(
                PythonDriver.command("dev.mcpsecure.samples.DemoServer", "--policy", policy.toString()));
        builder.environment().put("MCP_SECURE_AUDIT_FILE", audit.toString());
        Process server = builder.start();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        Thread drain = PythonDriver.drain(server.getErrorStream(), stderr);
        OutputStream in = server.getOutputStream();
        BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        try {
            send(in, forgedInitialize("1" + FAKE));
            assertThat(out.readLine()).contains("\"id\":0");
            send(in, notification("notifications/initialized"));
            send(in, notification("notifications/" + FAKE));
            send(in, response("r" + FAKE));
            send(in, request("q" + FAKE, "ping", Map.of()));
            assertThat(out.readLine()).contains("\"result\"");
            send(in, request(2, "resources/" + FAKE, Map.of()));
            assertThat(out.readLine()).contains("\"id\":2", "METHOD_NOT_SERVED");
            send(in, request(3, "tools/call", Map.of("name", "echo" + FAKE, "arguments", Map.of())));
            assertThat(out.readLine()).contains("\"id\":3", "TOOL_NOT_ALLOWED");
            send(in, request(4, "tools/call", Map.of("name", "echo", "arguments", Map.of("text", FAKE))));
            assertThat(out.readLine()).contains("\"id\":4", "FORGED");
        } finally {
            in.close();
            assertThat(server.waitFor(20, TimeUnit.SECONDS))
                    .as("exits when stdin closes")
                    .isTrue();
            drain.join(10_000);
        }

        List<Map<String, Object>> records = records(audit, "mcp-secure-demo");
        assertThat(count(records, "call"))
                .as("one call record per tools/call sent")
                .isEqualTo(2);
        assertThat(count(records, "message")).as("the unserved method, once").isEqualTo(1);
        assertThat(count(records, "start")).isEqualTo(1);
        List<Map<String, Object>> calls = AuditRecords.calls(records);
        assertThat(calls).extracting(record -> record.get("reason")).containsExactly("TOOL_NOT_ALLOWED", "ALLOWED");
        assertThat(String.valueOf(calls.get(0).get("tool")))
                .as("the forged name is recorded escaped, on its one line")
                .startsWith("echox\\u000a")
                .doesNotContain("\n", "\r");
        assertThat(calls.get(1).get("tool")).isEqualTo("echo");
        assertNoForgedLine(stderr.toString(StandardCharsets.UTF_8));
    }

    @Test
    void overHttpTheAuditFileHoldsOnlyRealRecords() throws Exception {
        int port = LoadRig.freePort();
        Path policy = SamplePolicy.copy(tmp, "http-api.yaml", UnaryOperator.identity());
        Path audit = tmp.resolve("audit.jsonl");
        Path log = tmp.resolve("server.log");
        Process server =
                HttpTransportIT.startHttpApi(policy, port, log, Map.of("MCP_SECURE_AUDIT_FILE", audit.toString()));
        String endpoint = "http://127.0.0.1:" + port + "/mcp";
        try {
            HttpClient http = HttpClient.newBuilder()
                    .proxy(java.net.ProxySelector.of(null))
                    .build();
            HttpResponse<String> init = post(http, endpoint, null, forgedInitialize("1"));
            assertThat(init.statusCode()).isEqualTo(200);
            String session = init.headers().firstValue("Mcp-Session-Id").orElseThrow();
            post(http, endpoint, session, notification("notifications/initialized"));
            post(http, endpoint, session, notification("notifications/" + FAKE));
            post(http, endpoint, session, response("r" + FAKE));
            assertThat(post(http, endpoint, session, request("q" + FAKE, "ping", Map.of()))
                            .statusCode())
                    .isEqualTo(200);
            assertThat(post(http, endpoint, session, request(2, "completion/" + FAKE, Map.of()))
                            .body())
                    .contains("METHOD_NOT_SERVED");
            assertThat(post(
                                    http,
                                    endpoint,
                                    session,
                                    request(
                                            3,
                                            "tools/call",
                                            Map.of("name", "fetch_json" + FAKE, "arguments", Map.of())))
                            .body())
                    .contains("TOOL_NOT_ALLOWED");
            assertThat(post(
                                    http,
                                    endpoint,
                                    session,
                                    request(
                                            4,
                                            "tools/call",
                                            Map.of("name", "fetch_json", "arguments", Map.of("url", FAKE))))
                            .statusCode())
                    .isEqualTo(200);
            // a forged session id and a forged protocol version header (header values cannot hold a
            // newline, so the forger's text rides in the parts a header can carry)
            HttpRequest bad = HttpRequest.newBuilder(URI.create(endpoint))
                    .header("Content-Type", "application/json")
                    .header("Accept", "application/json, text/event-stream")
                    .header("Mcp-Session-Id", "s" + MARK + FAKE_RECORD)
                    .header("MCP-Protocol-Version", "2025-11-25" + MARK)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"}"))
                    .build();
            assertThat(http.send(bad, HttpResponse.BodyHandlers.ofString()).statusCode())
                    .isEqualTo(400);
        } finally {
            server.destroy();
            assertThat(server.waitFor(20, TimeUnit.SECONDS))
                    .as("stops on SIGTERM")
                    .isTrue();
        }

        List<Map<String, Object>> records = records(audit, "mcp-secure-http-api");
        assertThat(count(records, "call"))
                .as("one call record per tools/call sent")
                .isEqualTo(2);
        assertThat(count(records, "message")).as("the unserved method, once").isEqualTo(1);
        assertThat(records)
                .filteredOn(record -> "transport".equals(record.get("kind")))
                .extracting(record -> record.get("reason"))
                .as("the response to no request, and the bad protocol version: once each")
                .containsExactly("RESPONSE_UNEXPECTED", "PROTOCOL_VERSION_UNSUPPORTED");
        List<Map<String, Object>> calls = AuditRecords.calls(records);
        assertThat(calls.get(0).get("reason")).isEqualTo("TOOL_NOT_ALLOWED");
        assertThat(String.valueOf(calls.get(0).get("tool")))
                .as("the forged name is recorded escaped, on its one line")
                .startsWith("fetch_jsonx\\u000a")
                .doesNotContain("\n", "\r");
        assertThat(calls.get(1).get("tool")).isEqualTo("fetch_json");
        assertNoForgedLine(Files.readString(log));
    }

    /**
     * Every record of the audit file, read strictly ({@link AuditRecords#read}: each line one JSON
     * object of a known kind), each from {@code server}, none the forged tool, and every effect
     * tied to exactly one call record.
     */
    private static List<Map<String, Object>> records(Path audit, String server) throws IOException {
        List<Map<String, Object>> records = AuditRecords.read(audit);
        assertThat(records).isNotEmpty().allSatisfy(record -> {
            assertThat(record).containsEntry("server", server).containsKey("callId");
            assertThat(record.get("tool")).isNotEqualTo("delete_everything");
        });
        AuditRecords.assertEffectsCarryTheirCall(records);
        return records;
    }

    private static long count(List<Map<String, Object>> records, String kind) {
        return AuditRecords.ofKind(records, kind).size();
    }

    /** No line of a log begins as one of the forged lines: every client text stayed inside its line. */
    private static void assertNoForgedLine(String log) {
        for (String line : log.split("\r?\n|\r", -1)) {
            assertThat(line).as("a forged line in the server's log").doesNotStartWith(AS_LOG_LINE);
            assertThat(line).as("a forged line in the server's log").doesNotStartWith("{\"time\"");
        }
    }

    private static Map<String, Object> request(Object id, String method, Map<String, Object> params) {
        return Map.of("jsonrpc", "2.0", "id", id, "method", method, "params", params);
    }

    /** An initialize whose protocol version and client name carry the forger's text. */
    private static Map<String, Object> forgedInitialize(String clientVersion) {
        return request(
                0,
                "initialize",
                Map.of(
                        "protocolVersion",
                        "2025-11-25" + FAKE,
                        "capabilities",
                        Map.of(),
                        "clientInfo",
                        Map.of("name", "forger" + FAKE, "version", clientVersion)));
    }

    private static Map<String, Object> notification(String method) {
        return Map.of("jsonrpc", "2.0", "method", method);
    }

    private static Map<String, Object> response(Object id) {
        return Map.of("jsonrpc", "2.0", "id", id, "result", Map.of());
    }

    private static void send(OutputStream in, Map<String, Object> message) throws IOException {
        in.write((PythonDriver.JSON.writeValueAsString(message) + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
    }

    private static HttpResponse<String> post(HttpClient http, String endpoint, String session, Map<String, Object> body)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(endpoint))
                .timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(PythonDriver.JSON.writeValueAsString(body)));
        if (session != null) {
            request.header("Mcp-Session-Id", session).header("MCP-Protocol-Version", "2025-11-25");
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
