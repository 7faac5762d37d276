package dev.mcpsecure.samples;

import dev.mcpsecure.core.SecureMcpServer;
import dev.mcpsecure.otel.McpSecureTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import java.util.Map;

/**
 * OpenTelemetry for a sample server, when its environment asks for it: with {@code
 * OTEL_EXPORTER_OTLP_ENDPOINT} set, the OpenTelemetry SDK is configured from the {@code OTEL_*}
 * variables (autoconfigure: service name, protocol, batching) and the server reports spans,
 * metrics and its audit records as log records there ({@link McpSecureTelemetry}); the SDK is
 * flushed and closed when the process ends. Without it, nothing is installed and nothing is sent.
 */
final class SampleTelemetry {

    private SampleTelemetry() {}

    /** Installs telemetry on {@code server} when {@code env} names an OTLP endpoint; says so on stderr. */
    static void apply(SecureMcpServer.Builder server, Map<String, String> env) {
        String endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT");
        if (endpoint == null || endpoint.isBlank()) {
            return;
        }
        OpenTelemetrySdk sdk = AutoConfiguredOpenTelemetrySdk.builder()
                .setServiceClassLoader(SampleTelemetry.class.getClassLoader())
                .build()
                .getOpenTelemetrySdk();
        Runtime.getRuntime().addShutdownHook(new Thread(sdk::close, "mcp-secure-otel-flush"));
        server.telemetry(McpSecureTelemetry.create(sdk).withAuditLogs());
        System.err.println("telemetry: OpenTelemetry over OTLP to " + endpoint);
    }
}
