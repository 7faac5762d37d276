package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.api.Decision;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.TextContent;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The results mcp-secure sends in place of a tool's own: an error result whose text starts with
 * the reason code and whose {@code _meta} carries it (and the incident id, when there is one).
 * Never a stack trace, a host path or a secret.
 */
final class ToolResults {

    /** The {@code _meta} key holding the reason code. */
    static final String REASON_KEY = "dev.mcpsecure/reason";
    /** The {@code _meta} key holding the incident id of a failure. */
    static final String INCIDENT_KEY = "dev.mcpsecure/incident";

    private ToolResults() {}

    static CallToolResult denied(Decision decision, String incidentId) {
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put(REASON_KEY, decision.reason().name());
        if (incidentId != null) {
            meta.put(INCIDENT_KEY, incidentId);
        }
        return new CallToolResult(
                List.of(TextContent.builder(decision.reason().name() + ": " + decision.detail())
                        .build()),
                true,
                null,
                meta);
    }
}
