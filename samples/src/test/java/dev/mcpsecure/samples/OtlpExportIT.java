package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end over OTLP: the HTTP sample server, run as a process with the OpenTelemetry SDK
 * configured from {@code OTEL_*} variables, exports to a real OpenTelemetry Collector (built from
 * its published Go modules by {@code tools/otelcol/build.sh}, OTLP receiver and debug exporter) on
 * loopback; the collector's output holds the call's span, its effect's child span and the call's
 * audit log record, in one trace, and the duration metric.
 */
class OtlpExportIT {

    /** Where {@code .ci/run} builds the collector; {@code MCP_SECURE_OTELCOL} overrides. */
    static final Path COLLECTOR =
            Path.of(System.getenv().getOrDefault("MCP_SECURE_OTELCOL", "../tools/otelcol/target/otelcol-mcp-secure"));

    @TempDir
    Path tmp;

    @Test
    void theCollectorReceivesTheCallsSpanEffectAuditRecordAndDuration() throws Exception {
        assertThat(COLLECTOR)
                .as("the OpenTelemetry Collector binary: build it with tools/otelcol/build.sh "
                        + "tools/otelcol/target/otelcol-mcp-secure (.ci/run does), or set MCP_SECURE_OTELCOL")
                .isExecutable();
        Path exported = tmp.resolve("collector.out");
        Collector started = Collector.start(exported);
        Process collector = started.process();
        int otlp = started.httpPort();
        Process server = null;
        try {
            int port = LoadRig.freePort();
            Path policy = SamplePolicy.copy(tmp, "http-api.yaml", UnaryOperator.identity());
            Path log = tmp.resolve("server.log");
            server = HttpTransportIT.startHttpApi(
                    policy,
                    port,
                    log,
                    Map.of(
                            "MCP_SECURE_AUDIT_FILE", tmp.resolve("audit.jsonl").toString(),
                            "OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + otlp,
                            "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
                            "OTEL_SERVICE_NAME", "http-api-e2e",
                            "OTEL_BSP_SCHEDULE_DELAY", "100",
                            "OTEL_BLRP_SCHEDULE_DELAY", "100",
                            "OTEL_METRIC_EXPORT_INTERVAL", "500"));
            assertThat(Files.readString(log))
                    .contains("telemetry: OpenTelemetry over OTLP to http://127.0.0.1:" + otlp);

            String endpoint = "http://127.0.0.1:" + port + "/mcp";
            HttpClient http =
                    HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();
            HttpResponse<String> init = post(
                    http,
                    endpoint,
                    null,
                    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                            + "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"e2e\",\"version\":\"1\"}}}");
            String session = init.headers().firstValue("Mcp-Session-Id").orElseThrow();
            post(http, endpoint, session, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
            String refused = post(
                            http,
                            endpoint,
                            session,
                            "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"fetch_json\","
                                    + "\"arguments\":{\"url\":\"http://169.254.169.254/latest/meta-data/\"},"
                                    + "\"_meta\":{\"traceparent\":\"00-0af7651916cd43dd8448eb211c80319c-"
                                    + "b7ad6b7169203331-01\"}}}")
                    .body();
            assertThat(refused).contains("EGRESS_");

            server.destroy(); // SIGTERM: the SDK flushes on the way out
            assertThat(server.waitFor(20, TimeUnit.SECONDS)).isTrue();
            String out = awaitText(exported, "Name           : tools/call fetch_json", 20);
            assertThat(out)
                    .contains("     -> service.name: Str(http-api-e2e)")
                    .contains("    Trace ID       : 0af7651916cd43dd8448eb211c80319c")
                    .contains("    Parent ID      : b7ad6b7169203331")
                    .contains("    Kind           : Server")
                    .contains("     -> gen_ai.tool.name: Str(fetch_json)")
                    .contains("     -> mcp.session.id: Str(" + session + ")");
            assertThat(out).as("the effect's child span").contains("    Name           : egress");
            Matcher reason = Pattern.compile("-> mcp_secure\\.reason: Str\\((EGRESS_[A-Z_]+)\\)")
                    .matcher(out);
            assertThat(reason.find()).as("the refusal's reason code on a span").isTrue();
            assertThat(awaitText(exported, "\"kind\":\"call\"", 20))
                    .as("the call's audit record as a log record in the call's trace")
                    .containsPattern("Body: Str\\(\\{\"time\":\"[^\"]+\",\"kind\":\"call\"[^\\n]*fetch_json")
                    .contains("Trace ID: 0af7651916cd43dd8448eb211c80319c");
            assertThat(awaitText(exported, "-> Name: mcp.server.operation.duration", 20))
                    .contains("     -> Name: mcp_secure.decisions");
        } finally {
            if (server != null && server.isAlive()) {
                server.destroyForcibly();
            }
            collector.destroy();
            assertThat(collector.waitFor(10, TimeUnit.SECONDS))
                    .as("the collector stops on SIGTERM")
                    .isTrue();
        }
    }

    private static HttpResponse<String> post(HttpClient http, String endpoint, String session, String body)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(endpoint))
                .timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (session != null) {
            request.header("Mcp-Session-Id", session).header("MCP-Protocol-Version", "2025-11-25");
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A running collector and its OTLP/HTTP port. */
    record Collector(Process process, int httpPort) {
        /**
         * Starts the collector on two free ports, its output in {@code out}; once more on other
         * ports when another process took one between the probe and the bind (at most 3 tries).
         */
        static Collector start(Path out) throws Exception {
            for (int attempt = 1; ; attempt++) {
                int grpc = LoadRig.freePort();
                int http = LoadRig.freePort();
                ProcessBuilder command = new ProcessBuilder(
                                COLLECTOR.toAbsolutePath().toString(),
                                "--config="
                                        + Path.of("../tools/otelcol/config.yaml")
                                                .toAbsolutePath())
                        .redirectErrorStream(true)
                        .redirectOutput(out.toFile());
                command.environment().put("OTLP_GRPC_PORT", String.valueOf(grpc));
                command.environment().put("OTLP_HTTP_PORT", String.valueOf(http));
                Process process = command.start();
                if (awaitPort(process, http, out)) {
                    return new Collector(process, http);
                }
                String output = Files.readString(out);
                if (attempt == 3 || !output.contains("address already in use")) {
                    throw new AssertionError("the collector exited with " + process.exitValue() + ":\n" + output);
                }
            }
        }
    }

    /** Whether {@code collector} listens on {@code port} within 30 s; false when it exited first. */
    private static boolean awaitPort(Process collector, int port, Path out) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!collector.isAlive()) {
                return false;
            }
            try (Socket socket = new Socket("127.0.0.1", port)) {
                if (socket.isConnected()) {
                    return true;
                }
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        throw new AssertionError("the collector did not listen on " + port + " within 30 s:\n" + Files.readString(out));
    }

    /** The collector's output once it holds {@code expected}, waiting up to {@code seconds}. */
    private static String awaitText(Path out, String expected, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        String text = "";
        while (System.nanoTime() < deadline) {
            text = Files.readString(out, StandardCharsets.UTF_8);
            if (text.contains(expected)) {
                return text;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the collector's output has no '" + expected + "' after " + seconds + " s:\n" + text);
    }
}
