package dev.mcpsecure.core.internal.pipeline;

import io.modelcontextprotocol.spec.McpSchema;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Deep, immutable copies of tool definitions as the protocol carries them: a schema or {@code
 * _meta} map the app still holds and edits later changes nothing mcp-secure lists, pins or checks
 * arguments against. Values become what JSON makes of them (maps keep their order, {@code null}s
 * stay), so the copy is what clients see.
 */
public final class Frozen {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private Frozen() {}

    /** {@code tool} with every map and list in it copied deeply and unmodifiable. */
    public static McpSchema.Tool tool(McpSchema.Tool tool) {
        return new McpSchema.Tool(
                tool.name(),
                tool.title(),
                tool.description(),
                map(tool.inputSchema()),
                map(tool.outputSchema()),
                tool.annotations(), // a record of strings and booleans
                map(tool.meta()),
                tool.icons() == null
                        ? null
                        : tool.icons().stream()
                                .map(icon -> new McpSchema.Icon(
                                        icon.src(),
                                        icon.mimeType(),
                                        icon.sizes() == null ? null : List.copyOf(icon.sizes()),
                                        icon.theme()))
                                .toList());
    }

    /** A deep, unmodifiable copy of {@code map} as JSON reads it; {@code null} stays {@code null}. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Map<String, Object> map) {
        return map == null ? null : (Map<String, Object>) value(JSON.valueToTree(map));
    }

    private static Object value(JsonNode node) {
        if (node.isObject()) {
            Map<String, Object> copy = new LinkedHashMap<>();
            node.properties().forEach(entry -> copy.put(entry.getKey(), value(entry.getValue())));
            return Collections.unmodifiableMap(copy);
        }
        if (node.isArray()) {
            List<Object> copy = new ArrayList<>(node.size());
            node.forEach(element -> copy.add(value(element)));
            return Collections.unmodifiableList(copy);
        }
        if (node.isNull() || node.isMissingNode()) {
            return null;
        }
        if (node.isNumber()) {
            return node.numberValue();
        }
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        return node.asString();
    }
}
