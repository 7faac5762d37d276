/**
 * OpenTelemetry for mcp-secure: {@code McpSecureTelemetry} turns a secured server's calls,
 * effects and audit records into spans, metrics and log records, on the OpenTelemetry API only
 * (no SDK is forced on users; without one installed, everything is a no-op).
 */
module dev.mcpsecure.otel {
    requires transitive dev.mcpsecure.api;
    requires transitive io.opentelemetry.api;
    requires io.opentelemetry.context;
    // only for the audit record's JSON shape (Slf4jAuditSink.toJson), shared with the other sinks
    requires dev.mcpsecure.core;

    exports dev.mcpsecure.otel;
}
