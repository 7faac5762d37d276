package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.api.VerifiedToken;
import io.modelcontextprotocol.server.McpAsyncServerExchange;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
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
 */
public record Inbound(
        String tool,
        Map<String, Object> arguments,
        String sessionId,
        VerifiedToken caller,
        McpSchema.Implementation client,
        McpAsyncServerExchange exchange,
        CallToolRequest request) {

    public Inbound {
        tool = Objects.requireNonNullElse(tool, "");
        sessionId = Objects.requireNonNullElse(sessionId, "none");
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
                request);
    }

    /** A call a transport screens before the SDK sees it. */
    public static Inbound screened(
            String tool,
            Map<String, Object> arguments,
            String sessionId,
            VerifiedToken caller,
            McpSchema.Implementation client) {
        return new Inbound(tool, arguments, sessionId, caller, client, null, null);
    }
}
