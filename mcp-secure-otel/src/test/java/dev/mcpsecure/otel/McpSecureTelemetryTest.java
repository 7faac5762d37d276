package dev.mcpsecure.otel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.EgressRule;
import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.TokenAudience;
import dev.mcpsecure.api.TokenPolicy;
import dev.mcpsecure.api.TokenSource;
import dev.mcpsecure.api.ToolPolicy;
import dev.mcpsecure.core.EgressHttpClient;
import dev.mcpsecure.core.Preflight;
import dev.mcpsecure.core.SecureMcpServer;
import dev.mcpsecure.core.SecureStdioServer;
import dev.mcpsecure.http.SecureHttpServer;
import dev.mcpsecure.testkit.InMemoryTransport;
import dev.mcpsecure.testkit.LoopbackHttpServer;
import dev.mcpsecure.testkit.RecordingAuditSink;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.spec.McpSchema;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.SimpleLogRecordProcessor;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryLogRecordExporter;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Spans, metrics and audit log records of allowed and refused calls, over real streamable HTTP
 * (Jetty on loopback, with a tool whose egress reaches a real loopback API) and over the stdio
 * transport, exported to the OpenTelemetry SDK's in-memory exporters.
 */
class McpSecureTelemetryTest {

    static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    static final String PARENT = "00f067aa0ba902b7";
    static final String TRACEPARENT = "00-" + TRACE + "-" + PARENT + "-01";

    final InMemorySpanExporter spans = InMemorySpanExporter.create();
    final InMemoryMetricReader metrics = InMemoryMetricReader.create();
    final InMemoryLogRecordExporter logs = InMemoryLogRecordExporter.create();
    final RecordingAuditSink audit = new RecordingAuditSink();
    OpenTelemetrySdk otel;
    McpSecureTelemetry telemetry;

    @BeforeEach
    void sdk() {
        otel = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder()
                        .addSpanProcessor(SimpleSpanProcessor.create(spans))
                        .build())
                .setMeterProvider(
                        SdkMeterProvider.builder().registerMetricReader(metrics).build())
                .setLoggerProvider(SdkLoggerProvider.builder()
                        .addLogRecordProcessor(SimpleLogRecordProcessor.create(logs))
                        .build())
                .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
                .build();
        telemetry = McpSecureTelemetry.create(otel);
    }

    @AfterEach
    void close() {
        otel.close();
    }

    @Test
    void overHttpACallIsASpanWithItsEffectsAndItsTraceReachesTheApiItCalls() throws Exception {
        try (LoopbackHttpServer api = LoopbackHttpServer.start()) {
            api.route("/v1/weather", request -> LoopbackHttpServer.Reply.text("sunny"));
            SecurityPolicy policy = SecurityPolicy.builder()
                    .server("traced", "")
                    .tool(ToolPolicy.builder("forecast")
                            .risks(RiskClass.NETWORK)
                            .build())
                    .egressRule(EgressRule.builder("127.0.0.1")
                            .scheme("http")
                            .port(api.port())
                            .allowAddresses("127.0.0.1/32")
                            .build())
                    .build();
            SecureMcpServer.Builder server = SecureMcpServer.builder(policy)
                    .auditSink(audit.andThen(telemetry.auditSink()))
                    .telemetry(telemetry);
            EgressHttpClient egress = server.egress();
            server.tool(
                    tool("forecast", () -> {
                        try {
                            return egress.get("http://127.0.0.1:" + api.port() + "/v1/weather")
                                    .bodyText();
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }),
                    RiskClass.NETWORK);
            try (SecureHttpServer http =
                    SecureHttpServer.builder(server, policy).start()) {
                URI endpoint = http.endpoint();
                String session = initialize(endpoint);

                String allowed = post(endpoint, session, call(2, "forecast", TRACEPARENT));
                String refused = post(endpoint, session, call(3, "ghost", null));

                assertThat(allowed).contains("sunny");
                assertThat(refused).contains("TOOL_NOT_ALLOWED");
                SpanData forecast = span("tools/call forecast");
                assertThat(forecast.getKind()).isEqualTo(SpanKind.SERVER);
                assertThat(forecast.getTraceId()).as("joins the caller's trace").isEqualTo(TRACE);
                assertThat(forecast.getParentSpanId()).isEqualTo(PARENT);
                assertThat(forecast.getAttributes().asMap())
                        .containsEntry(AttributeKey.stringKey("mcp.method.name"), "tools/call")
                        .containsEntry(AttributeKey.stringKey("gen_ai.tool.name"), "forecast")
                        .containsEntry(AttributeKey.stringKey("gen_ai.operation.name"), "execute_tool")
                        .containsEntry(AttributeKey.stringKey("network.transport"), "tcp")
                        .containsEntry(AttributeKey.stringKey("mcp.session.id"), session)
                        .containsEntry(AttributeKey.stringKey("mcp.protocol.version"), "2025-11-25")
                        .containsEntry(AttributeKey.stringKey("mcp_secure.decision"), "allow")
                        .containsEntry(AttributeKey.stringKey("mcp_secure.reason"), "ALLOWED");
                SpanData effect = span("egress");
                assertThat(effect.getKind()).isEqualTo(SpanKind.CLIENT);
                assertThat(effect.getParentSpanId()).isEqualTo(forecast.getSpanId());
                assertThat(effect.getTraceId()).isEqualTo(TRACE);
                assertThat(api.received()).singleElement().satisfies(request -> assertThat(
                                request.headers().get("traceparent"))
                        .as("the API joins the call's trace")
                        .isEqualTo("00-" + TRACE + "-" + forecast.getSpanId() + "-01"));

                SpanData ghost = span("tools/call _unknown");
                assertThat(ghost.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
                assertThat(ghost.getAttributes().asMap())
                        .containsEntry(AttributeKey.stringKey("error.type"), "tool_error")
                        .containsEntry(AttributeKey.stringKey("mcp_secure.reason"), "TOOL_NOT_ALLOWED");
                assertThat(ghost.getTraceId())
                        .as("a new trace: the request carried none")
                        .isNotEqualTo(TRACE);

                Collection<MetricData> points = metrics.collectAllMetrics();
                assertThat(histogram(points, "mcp.server.operation.duration"))
                        .extracting(point -> point.getAttributes().get(AttributeKey.stringKey("gen_ai.tool.name")))
                        .containsExactlyInAnyOrder("forecast", "_unknown");
                assertThat(histogram(points, "mcp.server.operation.duration"))
                        .filteredOn(point -> "_unknown"
                                .equals(point.getAttributes().get(AttributeKey.stringKey("gen_ai.tool.name"))))
                        .singleElement()
                        .satisfies(point -> assertThat(point.getAttributes().get(AttributeKey.stringKey("error.type")))
                                .isEqualTo("tool_error"));
                assertThat(sum(points, "mcp_secure.decisions", "mcp_secure.reason", "TOOL_NOT_ALLOWED"))
                        .isEqualTo(1);
                assertThat(sum(points, "mcp_secure.effects", "mcp_secure.effect.action", "egress"))
                        .isEqualTo(1);
                assertThat(sum(points, "mcp_secure.sessions.live", "mcp_secure.server", "traced"))
                        .isEqualTo(1);
                assertThat(sum(points, "mcp_secure.audit.records", "mcp_secure.audit.state", "recorded"))
                        .as("every record written: the effect and the two calls")
                        .isEqualTo(audit.events().size());

                LogRecordData callRecord = logs.getFinishedLogRecordItems().stream()
                        .filter(log -> log.getBodyValue().asString().contains("\"kind\":\"call\"")
                                && log.getBodyValue().asString().contains("\"tool\":\"forecast\""))
                        .findFirst()
                        .orElseThrow();
                assertThat(callRecord.getSpanContext().getTraceId())
                        .as("the audit log record joins the call's trace")
                        .isEqualTo(TRACE);
                assertThat(logs.getFinishedLogRecordItems())
                        .hasSize(audit.events().size());
            }
        }
    }

    @Test
    void overStdioCallsAreSpansOnAPipe(@TempDir Path dir) throws Exception {
        Stdio stdio = Stdio.start(dir, "server:\n  name: piped\ntools:\n  - name: echo\n", telemetry, audit);

        assertThat(stdio.exchange(call(2, "echo", TRACEPARENT))).contains("\"id\":2", "echoed");
        assertThat(stdio.exchange(call(3, "ghost", null))).contains("\"id\":3", "TOOL_NOT_ALLOWED");
        stdio.close();

        SpanData echo = span("tools/call echo");
        assertThat(echo.getTraceId()).isEqualTo(TRACE);
        assertThat(echo.getParentSpanId()).isEqualTo(PARENT);
        assertThat(echo.getAttributes().asMap())
                .containsEntry(AttributeKey.stringKey("network.transport"), "pipe")
                .containsEntry(AttributeKey.stringKey("mcp_secure.server"), "piped");
        SpanData ghost = span("tools/call _unknown");
        assertThat(ghost.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(ghost.getAttributes().get(AttributeKey.stringKey("mcp_secure.reason")))
                .isEqualTo("TOOL_NOT_ALLOWED");
        assertThat(sum(metrics.collectAllMetrics(), "mcp_secure.decisions", "mcp_secure.server", "piped"))
                .as("every record: the start (preflight), the two calls")
                .isEqualTo(audit.events().size())
                .isEqualTo(3);
    }

    @Test
    void tokensAreCountedMintedOrCachedAndAreEffectSpansOfTheirCall() {
        String audience = "https://api.example";
        SecurityPolicy policy = SecurityPolicy.builder()
                .server("minting", "")
                .tool(ToolPolicy.readOnly("token"))
                .tokens(new TokenPolicy(
                        Duration.ofMinutes(5), Map.of(audience, new TokenAudience("api", Duration.ofMinutes(2)))))
                .build();
        SecureMcpServer.Builder builder =
                SecureMcpServer.builder(policy).auditSink(audit).telemetry(telemetry);
        TokenSource tokens = builder.tokens();
        builder.tool(tool("token", () -> "expires " + tokens.token(audience).expiresAt()));
        InMemoryTransport transport = InMemoryTransport.create();
        SecureMcpServer server = builder.build(transport.serverProvider());
        McpSyncClient client = McpClient.sync(transport.clientTransport()).build();
        try {
            client.initialize();
            for (int i = 0; i < 2; i++) {
                client.callTool(McpSchema.CallToolRequest.builder("token")
                        .arguments(Map.of())
                        .build());
            }
        } finally {
            client.close();
            server.close();
        }

        Collection<MetricData> points = metrics.collectAllMetrics();
        assertThat(sum(points, "mcp_secure.tokens", "mcp_secure.token.source", "minted"))
                .isEqualTo(1);
        assertThat(sum(points, "mcp_secure.tokens", "mcp_secure.token.source", "cached"))
                .isEqualTo(1);
        assertThat(spans.getFinishedSpanItems())
                .filteredOn(span -> span.getName().equals("token"))
                .hasSize(2)
                .allSatisfy(effect -> assertThat(effect.getParentSpanId())
                        .isIn(spans.getFinishedSpanItems().stream()
                                .filter(span -> span.getName().equals("tools/call token"))
                                .map(SpanData::getSpanId)
                                .toList()));
        assertThat(audit.events())
                .filteredOn(event -> "token".equals(event.action()))
                .extracting(AuditEvent::detail)
                .satisfiesExactly(first -> assertThat(first).contains("newly minted"), second -> assertThat(second)
                        .contains("reused"));
    }

    @Test
    void aTelemetryThatThrowsChangesNoDecision(@TempDir Path dir) throws Exception {
        dev.mcpsecure.api.Telemetry broken = (call, request) -> {
            throw new IllegalStateException("exporter down");
        };
        Stdio stdio = Stdio.start(dir, "tools:\n  - name: echo\n", broken, audit);

        assertThat(stdio.exchange(call(2, "echo", null))).contains("\"id\":2", "echoed");
        stdio.close();
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** The stdio launcher on in-process pipes, with one tool, {@code echo}, initialized. */
    record Stdio(OutputStream requests, BufferedReader responses, CompletableFuture<Integer> exit) {
        static Stdio start(Path dir, String policyYaml, dev.mcpsecure.api.Telemetry telemetry, RecordingAuditSink audit)
                throws IOException {
            Path policy = dir.resolve("policy.yaml");
            Files.writeString(policy, policyYaml);
            PipedOutputStream clientWrites = new PipedOutputStream();
            PipedInputStream serverReads = new PipedInputStream(clientWrites, 1 << 16);
            PipedInputStream clientReads = new PipedInputStream(1 << 16);
            PipedOutputStream serverWrites = new PipedOutputStream(clientReads);
            CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> SecureStdioServer.run(
                    new String[] {"--policy", policy.toString()},
                    Map.of(),
                    serverReads,
                    serverWrites,
                    new PrintStream(OutputStream.nullOutputStream()),
                    Preflight.Runtime.current(),
                    server -> server.auditSink(audit).telemetry(telemetry).tool(tool("echo", () -> "echoed"))));
            Stdio stdio = new Stdio(
                    clientWrites, new BufferedReader(new InputStreamReader(clientReads, StandardCharsets.UTF_8)), exit);
            assertThat(stdio.exchange(initializeRequest())).contains("\"id\":1");
            send(clientWrites, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
            return stdio;
        }

        /** Sends one request line; returns the next response line. */
        String exchange(String request) throws IOException {
            send(requests, request);
            return responses.readLine();
        }

        /** Closes stdin; the server must exit 0. */
        void close() throws Exception {
            requests.close();
            assertThat(exit.get(10, TimeUnit.SECONDS)).isZero();
        }
    }

    static SyncToolSpecification tool(String name, java.util.function.Supplier<String> body) {
        return SyncToolSpecification.builder()
                .tool(McpSchema.Tool.builder(name, Map.of("type", "object")).build())
                .callHandler((exchange, request) -> McpSchema.CallToolResult.builder()
                        .addTextContent(body.get())
                        .isError(false)
                        .build())
                .build();
    }

    SpanData span(String name) {
        return spans.getFinishedSpanItems().stream()
                .filter(span -> span.getName().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no span " + name + " in " + spans.getFinishedSpanItems()));
    }

    static Collection<HistogramPointData> histogram(Collection<MetricData> metrics, String name) {
        return metrics.stream()
                .filter(metric -> metric.getName().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no metric " + name))
                .getHistogramData()
                .getPoints();
    }

    /** The sum of the points of {@code name} (a counter or gauge) whose {@code key} is {@code value}. */
    static long sum(Collection<MetricData> metrics, String name, String key, String value) {
        MetricData metric = metrics.stream()
                .filter(candidate -> candidate.getName().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no metric " + name + " in " + metrics));
        Collection<LongPointData> points = metric.getLongSumData().getPoints();
        return points.stream()
                .filter(point -> value.equals(point.getAttributes().get(AttributeKey.stringKey(key))))
                .mapToLong(LongPointData::getValue)
                .sum();
    }

    static String initializeRequest() {
        return "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                + "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}";
    }

    static String call(int id, String tool, String traceparent) {
        String meta = traceparent == null ? "" : ",\"_meta\":{\"traceparent\":\"" + traceparent + "\"}";
        return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool
                + "\",\"arguments\":{}" + meta + "}}";
    }

    static void send(OutputStream out, String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    static final HttpClient HTTP = HttpClient.newBuilder()
            .proxy(HttpClient.Builder.NO_PROXY)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    static String initialize(URI endpoint) throws Exception {
        HttpResponse<String> init =
                HTTP.send(request(endpoint, null, initializeRequest()), HttpResponse.BodyHandlers.ofString());
        String session = init.headers().firstValue("mcp-session-id").orElseThrow();
        post(endpoint, session, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
        return session;
    }

    static String post(URI endpoint, String session, String body) throws Exception {
        return HTTP.send(request(endpoint, session, body), HttpResponse.BodyHandlers.ofString())
                .body();
    }

    static HttpRequest request(URI endpoint, String session, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(endpoint)
                .timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (session != null) {
            request.header("Mcp-Session-Id", session).header("MCP-Protocol-Version", "2025-11-25");
        }
        return request.build();
    }
}
