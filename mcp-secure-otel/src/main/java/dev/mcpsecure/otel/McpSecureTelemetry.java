package dev.mcpsecure.otel;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.AuditSink;
import dev.mcpsecure.api.CallContext;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.Telemetry;
import dev.mcpsecure.core.Slf4jAuditSink;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A secured server's work in OpenTelemetry, on the API only: give it to {@code
 * SecureMcpServer.Builder.telemetry}, and {@link #auditSink()} (beside the JSON-lines sink) to ship
 * audit records as log records. Without an OpenTelemetry SDK installed every instrument is a
 * no-op.
 *
 * <p><b>Spans</b> (semantic conventions for MCP, development status): one {@code SERVER} span per
 * {@code tools/call}, named {@code tools/call <tool>}, its parent the trace context in the
 * request's {@code params._meta} ({@code traceparent}, {@code tracestate}), else in the HTTP
 * headers; attributes {@code mcp.method.name}, {@code gen_ai.tool.name}, {@code
 * gen_ai.operation.name} ({@code execute_tool}), {@code mcp.session.id}, {@code
 * mcp.protocol.version} (when known), {@code network.transport} ({@code pipe}, {@code tcp}), and
 * ours: {@code mcp_secure.call_id}, {@code mcp_secure.decision}, {@code mcp_secure.reason}. A
 * refused or failed call has status {@code ERROR} and {@code error.type} {@code tool_error}. Each
 * effect (file, process, egress, token, secret) is a child span named by its action ({@code
 * file.read}, {@code egress}...) with its decision and reason; no paths, URLs or arguments are put
 * on spans. Requests a tool makes through {@code EgressHttpClient} carry the call's {@code
 * traceparent} and {@code tracestate} (never {@code baggage}).
 *
 * <p><b>Metrics</b>: {@code mcp.server.operation.duration} (histogram, seconds, the conventions'
 * buckets; {@code mcp.method.name}, {@code gen_ai.tool.name}, {@code error.type}, {@code
 * network.transport}); {@code mcp_secure.decisions} (every audit record, by {@code
 * mcp_secure.record.kind}, {@code mcp_secure.decision}, {@code mcp_secure.reason}); {@code
 * mcp_secure.effects} (by {@code mcp_secure.effect.action}, {@code mcp_secure.decision}); {@code
 * mcp_secure.tokens} (by {@code mcp_secure.token.audience}, {@code mcp_secure.token.source}:
 * {@code minted} or {@code cached}); {@code mcp_secure.audit.records} (observed; by {@code
 * mcp_secure.audit.state}: {@code recorded}, {@code failed}, {@code dropped}); {@code
 * mcp_secure.sessions.live} (observed, HTTP only). Every metric carries {@code
 * mcp_secure.server}.
 *
 * <p>Thread-safe. Nothing here can change a decision: the server tells it after deciding.
 */
public final class McpSecureTelemetry implements Telemetry {

    /** The instrumentation scope name of spans, metrics and log records. */
    public static final String SCOPE = "dev.mcpsecure";

    static final AttributeKey<String> METHOD = AttributeKey.stringKey("mcp.method.name");
    static final AttributeKey<String> TOOL = AttributeKey.stringKey("gen_ai.tool.name");
    static final AttributeKey<String> OPERATION = AttributeKey.stringKey("gen_ai.operation.name");
    static final AttributeKey<String> SESSION = AttributeKey.stringKey("mcp.session.id");
    static final AttributeKey<String> PROTOCOL = AttributeKey.stringKey("mcp.protocol.version");
    static final AttributeKey<String> TRANSPORT = AttributeKey.stringKey("network.transport");
    static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
    static final AttributeKey<String> SERVER = AttributeKey.stringKey("mcp_secure.server");
    static final AttributeKey<String> CALL_ID = AttributeKey.stringKey("mcp_secure.call_id");
    static final AttributeKey<String> DECISION = AttributeKey.stringKey("mcp_secure.decision");
    static final AttributeKey<String> REASON = AttributeKey.stringKey("mcp_secure.reason");
    static final AttributeKey<String> KIND = AttributeKey.stringKey("mcp_secure.record.kind");
    static final AttributeKey<String> ACTION = AttributeKey.stringKey("mcp_secure.effect.action");
    static final AttributeKey<String> AUDIENCE = AttributeKey.stringKey("mcp_secure.token.audience");
    static final AttributeKey<String> TOKEN_SOURCE = AttributeKey.stringKey("mcp_secure.token.source");
    static final AttributeKey<String> AUDIT_STATE = AttributeKey.stringKey("mcp_secure.audit.state");

    private static final List<Double> DURATION_BUCKETS =
            List.of(0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0);
    private static final TextMapGetter<Map<String, String>> FROM_MAP =
            (carrier, key) -> carrier == null ? null : carrier.get(key);

    private final Tracer tracer;
    private final Meter meter;
    private final Logger logs;
    private final TextMapPropagator propagator;
    private final DoubleHistogram duration;
    private final LongCounter decisions;
    private final LongCounter effects;
    private final LongCounter tokens;
    /** The spans of calls being served, by call id: audit log records of a call join its trace. */
    private final Map<String, Span> open;

    private final boolean auditLogs;

    private McpSecureTelemetry(McpSecureTelemetry base) {
        this.tracer = base.tracer;
        this.meter = base.meter;
        this.logs = base.logs;
        this.propagator = base.propagator;
        this.duration = base.duration;
        this.decisions = base.decisions;
        this.effects = base.effects;
        this.tokens = base.tokens;
        this.open = base.open;
        this.auditLogs = true;
    }

    private McpSecureTelemetry(OpenTelemetry otel) {
        this.open = new ConcurrentHashMap<>();
        this.auditLogs = false;
        this.tracer = otel.getTracer(SCOPE);
        this.meter = otel.getMeter(SCOPE);
        this.logs = otel.getLogsBridge().get(SCOPE);
        this.propagator = otel.getPropagators().getTextMapPropagator();
        this.duration = meter.histogramBuilder("mcp.server.operation.duration")
                .setUnit("s")
                .setDescription("MCP request duration as observed on the server, from receipt until the result")
                .setExplicitBucketBoundariesAdvice(DURATION_BUCKETS)
                .build();
        this.decisions = meter.counterBuilder("mcp_secure.decisions")
                .setUnit("{record}")
                .setDescription("Audit records by kind, decision and reason code")
                .build();
        this.effects = meter.counterBuilder("mcp_secure.effects")
                .setUnit("{effect}")
                .setDescription(
                        "Effects of tools (files, processes, connections, tokens, secrets) by action and decision")
                .build();
        this.tokens = meter.counterBuilder("mcp_secure.tokens")
                .setUnit("{token}")
                .setDescription("Tokens handed to tools, minted for the request or cached")
                .build();
    }

    /** Telemetry through {@code otel} (its tracer, meter, logs bridge and propagators). */
    public static McpSecureTelemetry create(OpenTelemetry otel) {
        return new McpSecureTelemetry(Objects.requireNonNull(otel, "otel"));
    }

    /**
     * Telemetry through {@link GlobalOpenTelemetry}: the Java agent's, or an SDK registered
     * globally (autoconfigure); a no-op when there is none.
     */
    public static McpSecureTelemetry global() {
        return create(GlobalOpenTelemetry.get());
    }

    @Override
    public Observation start(CallContext call, Request request) {
        Context parent = request.carrier().isEmpty()
                ? Context.root()
                : propagator.extract(Context.root(), request.carrier(), FROM_MAP);
        // attribute by attribute: a no-op builder (no SDK installed) allocates nothing for them
        SpanBuilder builder = tracer.spanBuilder(request.method() + " " + call.tool())
                .setSpanKind(SpanKind.SERVER)
                .setParent(parent)
                .setAttribute(METHOD, request.method())
                .setAttribute(TOOL, call.tool())
                .setAttribute(OPERATION, "execute_tool")
                .setAttribute(TRANSPORT, request.transport())
                .setAttribute(SERVER, call.server())
                .setAttribute(CALL_ID, call.callId());
        if (!"none".equals(call.sessionId())) {
            builder.setAttribute(SESSION, call.sessionId());
        }
        if (request.protocolVersion() != null) {
            builder.setAttribute(PROTOCOL, request.protocolVersion());
        }
        Span span = builder.startSpan();
        open.put(call.callId(), span);
        return new CallObservation(span, call, request, System.nanoTime());
    }

    /**
     * This telemetry, also shipping every record that passed the server's audit door as a log
     * record (see {@link #auditSink()} for its shape), best effort: the exporter is not part of
     * the door, so its failures refuse nothing. Use {@link #auditSink()} instead to make shipping
     * part of the door (a sink that fails refuses the call, fail closed).
     */
    public McpSecureTelemetry withAuditLogs() {
        return auditLogs ? this : new McpSecureTelemetry(this);
    }

    @Override
    public void recorded(AuditEvent record, boolean written) {
        if (auditLogs) {
            emit(record);
        }
        decisions.add(
                1,
                attributes.computeIfAbsent(
                        new DecisionKey(record.server(), record.kind(), record.outcome(), record.reason()),
                        McpSecureTelemetry::decisionAttributes));
        if (record.kind() == AuditEvent.Kind.EFFECT) {
            effects.add(
                    1,
                    attributes.computeIfAbsent(
                            new EffectKey(record.server(), String.valueOf(record.action()), record.outcome()),
                            McpSecureTelemetry::effectAttributes));
        }
    }

    @Override
    public void tokenIssued(String audience, boolean minted) {
        tokens.add(1, Attributes.of(AUDIENCE, audience, TOKEN_SOURCE, minted ? "minted" : "cached"));
    }

    @Override
    public void serving(ServerState state) {
        Attributes server = Attributes.of(SERVER, state.server());
        meter.counterBuilder("mcp_secure.audit.records")
                .setUnit("{record}")
                .setDescription("Audit records written, failed (the sink threw or was too slow) and dropped")
                .buildWithCallback(measurement -> {
                    measurement.record(
                            state.auditRecorded(),
                            server.toBuilder().put(AUDIT_STATE, "recorded").build());
                    measurement.record(
                            state.auditFailed(),
                            server.toBuilder().put(AUDIT_STATE, "failed").build());
                    measurement.record(
                            state.auditDropped(),
                            server.toBuilder().put(AUDIT_STATE, "dropped").build());
                });
        meter.upDownCounterBuilder("mcp_secure.sessions.live")
                .setUnit("{session}")
                .setDescription("Live MCP sessions (HTTP)")
                .buildWithCallback(measurement -> {
                    int live = state.liveSessions();
                    if (live >= 0) {
                        measurement.record(live, server);
                    }
                });
    }

    /**
     * An audit sink that emits each record as an OpenTelemetry log record: the body is the
     * record's one-line JSON (the shape of the JSON-lines and SLF4J sinks), the attributes its
     * kind, decision, reason, server, tool and call id, the severity {@code INFO} (allow) or
     * {@code WARN} (deny, finding); a call's records carry its span's trace context. Use it beside
     * the JSON-lines sink, not instead of it: an exporter drops records when its queue is full.
     */
    public AuditSink auditSink() {
        return this::emit;
    }

    private void emit(AuditEvent event) {
        {
            Span span = event.callId() == null ? null : open.get(event.callId());
            AttributesBuilder attributes = Attributes.builder()
                    .put(SERVER, event.server())
                    .put(KIND, lower(event.kind()))
                    .put(DECISION, lower(event.outcome()))
                    .put(REASON, event.reason().name());
            if (event.tool() != null) {
                attributes.put(TOOL, event.tool());
            }
            if (event.callId() != null) {
                attributes.put(CALL_ID, event.callId());
            }
            if (event.action() != null) {
                attributes.put(ACTION, event.action());
            }
            logs.logRecordBuilder()
                    .setTimestamp(event.time())
                    .setContext(span == null ? Context.root() : Context.root().with(span))
                    .setSeverity(event.outcome() == AuditEvent.Outcome.ALLOW ? Severity.INFO : Severity.WARN)
                    .setSeverityText(event.outcome() == AuditEvent.Outcome.ALLOW ? "INFO" : "WARN")
                    .setEventName("mcp_secure.audit")
                    .setBody(Slf4jAuditSink.toJson(event))
                    .setAllAttributes(attributes.build())
                    .emit();
        }
    }

    /**
     * The attribute sets of metric points, made once per distinct set (a policy's tools, reason
     * codes and actions are few), so recording a point allocates nothing for them.
     */
    private final Map<Object, Attributes> attributes = new ConcurrentHashMap<>();

    private record DecisionKey(String server, AuditEvent.Kind kind, AuditEvent.Outcome outcome, ReasonCode reason) {}

    private record EffectKey(String server, String action, AuditEvent.Outcome outcome) {}

    private record DurationKey(
            String server, String method, String tool, String transport, String protocol, boolean error) {}

    private static Attributes decisionAttributes(Object of) {
        DecisionKey key = (DecisionKey) of;
        return Attributes.of(
                SERVER,
                key.server(),
                KIND,
                lower(key.kind()),
                DECISION,
                lower(key.outcome()),
                REASON,
                key.reason().name());
    }

    private static Attributes effectAttributes(Object of) {
        EffectKey key = (EffectKey) of;
        return Attributes.of(SERVER, key.server(), ACTION, key.action(), DECISION, lower(key.outcome()));
    }

    private static Attributes durationAttributes(Object of) {
        DurationKey key = (DurationKey) of;
        AttributesBuilder metric = Attributes.builder()
                .put(METHOD, key.method())
                .put(TOOL, key.tool())
                .put(TRANSPORT, key.transport())
                .put(SERVER, key.server());
        if (key.error()) {
            metric.put(ERROR_TYPE, "tool_error");
        }
        if (key.protocol() != null) {
            metric.put(PROTOCOL, key.protocol());
        }
        return metric.build();
    }

    private static String lower(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }

    /** One call's span. */
    private final class CallObservation implements Observation {
        private final Span span;
        private final CallContext call;
        private final Request request;
        private final long startNanos;

        CallObservation(Span span, CallContext call, Request request, long startNanos) {
            this.span = span;
            this.call = call;
            this.request = request;
            this.startNanos = startNanos;
        }

        @Override
        public Map<String, String> propagation() {
            Map<String, String> entries = new LinkedHashMap<>();
            propagator.inject(Context.root().with(span), entries, (carrier, key, value) -> carrier.put(key, value));
            entries.remove("baggage"); // stays in the server
            return entries;
        }

        @Override
        public void effect(AuditEvent effect) {
            Instant end = effect.time();
            Instant start = end.minusNanos(Math.max(0, effect.durationMicros()) * 1_000);
            Span child = tracer.spanBuilder(String.valueOf(effect.action()))
                    .setParent(Context.root().with(span))
                    .setSpanKind("egress".equals(effect.action()) ? SpanKind.CLIENT : SpanKind.INTERNAL)
                    .setStartTimestamp(start)
                    .setAttribute(DECISION, lower(effect.outcome()))
                    .setAttribute(REASON, effect.reason().name())
                    .setAttribute(CALL_ID, call.callId())
                    .startSpan();
            if (!effect.allowed()) {
                child.setStatus(StatusCode.ERROR, effect.reason().name());
            }
            child.end(end);
        }

        @Override
        public void abandon() {
            open.remove(call.callId());
            span.setStatus(StatusCode.ERROR, "abandoned");
            span.setAttribute(ERROR_TYPE, "abandoned");
            span.end();
        }

        @Override
        public void end(AuditEvent record) {
            open.remove(call.callId());
            double seconds = (System.nanoTime() - startNanos) / 1e9;
            span.setAttribute(DECISION, lower(record.outcome()));
            span.setAttribute(REASON, record.reason().name());
            if (!record.allowed()) {
                span.setAttribute(ERROR_TYPE, "tool_error");
                span.setStatus(StatusCode.ERROR, record.reason().name());
            }
            DurationKey key = new DurationKey(
                    call.server(),
                    request.method(),
                    call.tool(),
                    request.transport(),
                    request.protocolVersion(),
                    !record.allowed());
            duration.record(seconds, attributes.computeIfAbsent(key, McpSecureTelemetry::durationAttributes));
            span.end();
        }
    }
}
