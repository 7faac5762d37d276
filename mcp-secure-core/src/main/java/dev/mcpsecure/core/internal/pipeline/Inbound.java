package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.api.Telemetry;
import dev.mcpsecure.api.VerifiedToken;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.server.McpAsyncServerExchange;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A {@code tools/call} as a transport hands it to the {@link Pipeline}.
 *
 * @param tool the tool name as sent ({@code ""} when absent)
 * @param arguments the arguments as sent, {@code null} for none
 * @param sessionId the MCP session, {@code none} when the transport has none
 * @param caller the verified bearer token, {@code null} on transports without authentication
 * @param client the client's declared implementation, or {@code null}
 * @param exchange the SDK exchange the tool runs with; {@code null} when a transport screens the
 *     call before the SDK sees it (then only refusals can come of it)
 * @param request the SDK request the tool receives; {@code null} with {@code exchange}
 * @param telemetry what the transport and the request say for telemetry (transport, protocol
 *     version, trace context); stdio with no trace context when {@code null}
 */
public record Inbound(
        String tool,
        Map<String, Object> arguments,
        String sessionId,
        VerifiedToken caller,
        McpSchema.Implementation client,
        McpAsyncServerExchange exchange,
        CallToolRequest request,
        Telemetry.Request telemetry) {

    /**
     * The {@link McpTransportContext} key under which a transport says what it knows of a request
     * for telemetry: a {@link Telemetry.Request} (its transport, protocol version and the trace
     * context of its headers); the request's own {@code _meta} trace context takes precedence.
     */
    public static final String TELEMETRY_CONTEXT_KEY = "dev.mcpsecure/telemetry";

    /** The {@code _meta} (and HTTP header) entries that carry trace context. */
    public static final List<String> TRACE_KEYS = List.of("traceparent", "tracestate", "baggage");

    private static final Telemetry.Request STDIO = new Telemetry.Request("tools/call", "pipe", null, Map.of());

    public Inbound {
        tool = Objects.requireNonNullElse(tool, "");
        sessionId = Objects.requireNonNullElse(sessionId, "none");
        telemetry = Objects.requireNonNullElse(telemetry, STDIO);
    }

    /** A call the SDK hands to a registered tool's handler. */
    public static Inbound of(McpAsyncServerExchange exchange, CallToolRequest request) {
        return new Inbound(
                request.name(),
                request.arguments(),
                exchange.sessionId(),
                VerifiedTokens.of(exchange.transportContext()),
                exchange.getClientInfo(),
                exchange,
                request,
                telemetry(request.meta(), exchange.transportContext()));
    }

    /** A call a transport screens before the SDK sees it. */
    public static Inbound screened(
            String tool,
            Map<String, Object> arguments,
            String sessionId,
            VerifiedToken caller,
            McpSchema.Implementation client,
            Telemetry.Request telemetry) {
        return new Inbound(tool, arguments, sessionId, caller, client, null, null, telemetry);
    }

    /**
     * What telemetry learns of a {@code tools/call}: the transport's view (from {@code context},
     * stdio when it says nothing) with the trace context of the request's {@code _meta} when it
     * carries any.
     */
    public static Telemetry.Request telemetry(Map<String, Object> meta, McpTransportContext context) {
        Telemetry.Request transport =
                context != null && context.get(TELEMETRY_CONTEXT_KEY) instanceof Telemetry.Request known
                        ? known
                        : STDIO;
        Map<String, String> carried = null; // made only when the request carries trace context
        if (meta != null) {
            for (String key : TRACE_KEYS) {
                if (meta.get(key) instanceof String value && value.length() <= 512) {
                    if (carried == null) {
                        carried = new LinkedHashMap<>();
                    }
                    carried.put(key, value);
                }
            }
        }
        return carried == null
                ? transport
                : new Telemetry.Request(
                        transport.method(), transport.transport(), transport.protocolVersion(), carried);
    }
}
