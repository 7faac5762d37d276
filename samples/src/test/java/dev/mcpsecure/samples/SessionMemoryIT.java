package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP-API sample as a real process with a 256 MiB heap, flooded with {@code initialize}
 * requests each declaring 1 MiB of client info (what kept ~2 MiB a session and ran a server out
 * of memory after 54 sessions before the cap on session state), then with ordinary ones past the
 * session cap: the large ones are refused (413), the cap holds exactly (503 beyond it), and the
 * server keeps serving — no {@code OutOfMemoryError}.
 */
class SessionMemoryIT {

    @TempDir
    Path tmp;

    @Test
    void largeDeclarationsAndSessionFloodsDoNotExhaustA256MiBHeap() throws Exception {
        int port = LoadRig.freePort();
        Path policy = SamplePolicy.copy(tmp, "http-api.yaml", UnaryOperator.identity());
        Path log = tmp.resolve("server.log");
        List<String> command = new ArrayList<>(PythonDriver.command(
                "dev.mcpsecure.samples.HttpApiServer", "--policy", policy.toString(), "--port", String.valueOf(port)));
        command.add(1, "-Xmx256m");
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment()
                .put("MCP_SECURE_AUDIT_FILE", tmp.resolve("audit.jsonl").toString());
        Process server = builder.start();
        URI endpoint = URI.create("http://127.0.0.1:" + port + "/mcp");
        HttpClient http = HttpClient.newBuilder().proxy(ProxySelector.of(null)).build();
        Map<Integer, Integer> large = new TreeMap<>();
        Map<Integer, Integer> ordinary = new TreeMap<>();
        String session = null;
        long started = System.nanoTime();
        try {
            HttpTransportIT.awaitServing(server, log);
            String mebibyte = "x".repeat(1 << 20);
            for (int i = 0; i < 150; i++) {
                large.merge(post(http, endpoint, initialize(mebibyte)).statusCode(), 1, Integer::sum);
            }
            for (int i = 0; i < 150; i++) {
                HttpResponse<String> answer = post(http, endpoint, initialize("client-" + i));
                ordinary.merge(answer.statusCode(), 1, Integer::sum);
                if (session == null && answer.statusCode() == 200) {
                    session = answer.headers().firstValue("Mcp-Session-Id").orElseThrow();
                }
            }
            HttpResponse<String> list = http.send(
                    HttpRequest.newBuilder(endpoint)
                            .header("Content-Type", "application/json")
                            .header("Accept", "application/json, text/event-stream")
                            .header("Mcp-Session-Id", session)
                            .header("MCP-Protocol-Version", "2025-11-25")
                            .POST(HttpRequest.BodyPublishers.ofString(
                                    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{}}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(list.statusCode()).as("still serving").isEqualTo(200);
            assertThat(list.body()).contains("fetch_json");
            assertThat(server.isAlive()).isTrue();
        } finally {
            server.destroy();
            assertThat(server.waitFor(20, TimeUnit.SECONDS)).isTrue();
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        String output = Files.readString(log);
        System.out.printf(
                "session memory: 150 x 1 MiB initialize -> %s; 150 ordinary -> %s; %d ms; heap -Xmx256m%n",
                large, ordinary, millis);
        assertThat(large).as("every oversized declaration refused").isEqualTo(Map.of(413, 150));
        assertThat(ordinary).as("the cap (100 by default) holds exactly").isEqualTo(Map.of(200, 100, 503, 50));
        assertThat(output).doesNotContain("OutOfMemoryError");
    }

    private static String initialize(String clientName) {
        return "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
                + "\"capabilities\":{},\"clientInfo\":{\"name\":\"" + clientName + "\",\"version\":\"1\"}}}";
    }

    private static HttpResponse<String> post(HttpClient http, URI endpoint, String body) throws Exception {
        return http.send(
                HttpRequest.newBuilder(endpoint)
                        .timeout(Duration.ofSeconds(30))
                        .header("Content-Type", "application/json")
                        .header("Accept", "application/json, text/event-stream")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
