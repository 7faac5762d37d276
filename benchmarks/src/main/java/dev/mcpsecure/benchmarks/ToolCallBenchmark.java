package dev.mcpsecure.benchmarks;

import dev.mcpsecure.api.AuditSink;
import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.ToolCall;
import dev.mcpsecure.api.ToolPolicy;
import dev.mcpsecure.core.SecureMcpServer;
import dev.mcpsecure.core.Slf4jAuditSink;
import dev.mcpsecure.core.internal.pipeline.PolicyToolGuard;
import dev.mcpsecure.otel.McpSecureTelemetry;
import dev.mcpsecure.testkit.InMemoryTransport;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.BatchLogRecordProcessor;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * B1: the same trivial tool called through the bare SDK server and through SecureMcpServer
 * (every step of the pipeline on), each over its own in-memory transport with a JSON round trip
 * per message: audit to a sink that drops events, and audit through the real
 * {@link Slf4jAuditSink} with Logback's AsyncAppender writing a file ({@code logback.xml}); with
 * {@link McpSecureTelemetry} on the OpenTelemetry API and no SDK installed (every instrument a
 * no-op), and with the SDK installed (batching span and log record processors and a periodic
 * metric reader, exporting to exporters that discard: the cost of recording, not of a network);
 * and the decision path alone. Average time and, in sample mode, p50/p99.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ToolCallBenchmark {

    private static final CallToolRequest REQUEST =
            CallToolRequest.builder("echo").arguments(Map.of("text", "hello")).build();

    private McpSyncServer bareServer;
    private McpSyncServer securedServer;
    private McpSyncServer loggedServer;
    private McpSyncClient bare;
    private McpSyncClient secured;
    private McpSyncClient logged;
    private McpSyncServer noSdkServer;
    private McpSyncServer sdkServer;
    private McpSyncClient noSdk;
    private McpSyncClient sdk;
    private OpenTelemetrySdk otel;
    private PolicyToolGuard guard;
    private ToolCall call;

    private static SyncToolSpecification echo() {
        return SyncToolSpecification.builder()
                .tool(McpSchema.Tool.builder("echo", Map.of("type", "object")).build())
                .callHandler((exchange, request) -> CallToolResult.builder()
                        .addTextContent(String.valueOf(request.arguments().get("text")))
                        .isError(false)
                        .build())
                .build();
    }

    private static McpSyncClient connect(InMemoryTransport transport) {
        McpSyncClient client = McpClient.sync(transport.clientTransport())
                .requestTimeout(Duration.ofSeconds(30))
                .build();
        client.initialize();
        return client;
    }

    @Setup(Level.Trial)
    public void start() {
        SecurityPolicy policy = SecurityPolicy.builder()
                .tool(ToolPolicy.builder("echo")
                        .rateLimit(1_000_000, Duration.ofSeconds(1))
                        .maxConcurrency(64)
                        .build())
                .build();
        AuditSink drop = event -> {};

        InMemoryTransport bareTransport = InMemoryTransport.create();
        bareServer = McpServer.sync(bareTransport.serverProvider())
                .capabilities(McpSchema.ServerCapabilities.builder().tools(true).build())
                .tools(echo())
                .build();
        bare = connect(bareTransport);

        InMemoryTransport securedTransport = InMemoryTransport.create();
        securedServer = SecureMcpServer.builder(policy)
                .auditSink(drop)
                .tool(echo())
                .build(securedTransport.serverProvider())
                .sync();
        secured = connect(securedTransport);

        InMemoryTransport loggedTransport = InMemoryTransport.create();
        loggedServer = SecureMcpServer.builder(policy)
                .auditSink(new Slf4jAuditSink())
                .tool(echo())
                .build(loggedTransport.serverProvider())
                .sync();
        logged = connect(loggedTransport);

        InMemoryTransport noSdkTransport = InMemoryTransport.create();
        noSdkServer = SecureMcpServer.builder(policy)
                .auditSink(drop)
                .telemetry(McpSecureTelemetry.create(OpenTelemetry.noop()).withAuditLogs())
                .tool(echo())
                .build(noSdkTransport.serverProvider())
                .sync();
        noSdk = connect(noSdkTransport);

        otel = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder()
                        .addSpanProcessor(BatchSpanProcessor.builder(new DiscardingSpans())
                                .build())
                        .build())
                .setMeterProvider(SdkMeterProvider.builder()
                        .registerMetricReader(PeriodicMetricReader.builder(new DiscardingMetrics())
                                .setInterval(Duration.ofSeconds(10))
                                .build())
                        .build())
                .setLoggerProvider(SdkLoggerProvider.builder()
                        .addLogRecordProcessor(BatchLogRecordProcessor.builder(new DiscardingLogs())
                                .build())
                        .build())
                .build();
        InMemoryTransport sdkTransport = InMemoryTransport.create();
        sdkServer = SecureMcpServer.builder(policy)
                .auditSink(drop)
                .telemetry(McpSecureTelemetry.create(otel).withAuditLogs())
                .tool(echo())
                .build(sdkTransport.serverProvider())
                .sync();
        sdk = connect(sdkTransport);

        // A clock that moves 1 ms per reading: the bucket (1,000,000/s) always refills, so this
        // measures the allow path a real call takes; with the real clock, at ~10M checks/s, most
        // checks would hit the rate limit and measure building its denial instead.
        long[] fakeNanos = {0};
        guard = new PolicyToolGuard(policy, () -> fakeNanos[0] += 1_000_000);
        // an EnumSet, as the pipeline passes the declared risks
        call = new ToolCall("echo", java.util.EnumSet.of(RiskClass.READ_ONLY), Optional.empty(), "session", 16);
    }

    @TearDown(Level.Trial)
    public void stop() {
        bare.close();
        secured.close();
        logged.close();
        noSdk.close();
        sdk.close();
        bareServer.close();
        securedServer.close();
        loggedServer.close();
        noSdkServer.close();
        sdkServer.close();
        otel.close();
    }

    @Benchmark
    @BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
    public CallToolResult bareSdkCall() {
        return bare.callTool(REQUEST);
    }

    @Benchmark
    @BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
    public CallToolResult securedCall() {
        return secured.callTool(REQUEST);
    }

    @Benchmark
    @BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
    public CallToolResult securedCallAuditSlf4jAsync() {
        return logged.callTool(REQUEST);
    }

    @Benchmark
    @BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
    public CallToolResult securedCallTelemetryNoSdk() {
        return noSdk.callTool(REQUEST);
    }

    @Benchmark
    @BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
    public CallToolResult securedCallTelemetrySdk() {
        return sdk.callTool(REQUEST);
    }

    /** Exporters that take everything and keep nothing: the benchmark measures recording. */
    private abstract static class Discarding {
        public CompletableResultCode flush() {
            return CompletableResultCode.ofSuccess();
        }

        public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
        }
    }

    private static final class DiscardingSpans extends Discarding implements SpanExporter {
        @Override
        public CompletableResultCode export(Collection<SpanData> spans) {
            return CompletableResultCode.ofSuccess();
        }
    }

    private static final class DiscardingLogs extends Discarding implements LogRecordExporter {
        @Override
        public CompletableResultCode export(Collection<LogRecordData> logs) {
            return CompletableResultCode.ofSuccess();
        }
    }

    private static final class DiscardingMetrics extends Discarding implements MetricExporter {
        @Override
        public CompletableResultCode export(Collection<MetricData> metrics) {
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public AggregationTemporality getAggregationTemporality(InstrumentType type) {
            return AggregationTemporality.CUMULATIVE;
        }
    }

    @Benchmark
    @BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Object decisionPathOnly() {
        return guard.checkCall(call);
    }
}
