package dev.mcpsecure.samples;

import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.McpJsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * JSON for the image build and its test, through the MCP SDK's mapper (the one the samples' tests
 * read and write JSON with): objects as maps in insertion order, so written text is deterministic
 * for the same input, arrays as lists.
 */
final class JsonValues {

    private static final McpJsonMapper JSON = McpJsonDefaults.getMapper();

    private JsonValues() {}

    /** The value {@code text} holds. */
    static Object parse(String text) {
        try {
            return JSON.readValue(text, Object.class);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + e.getMessage(), e);
        }
    }

    /** {@code value} as compact JSON. */
    static String write(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> object(Object value) {
        if (!(value instanceof Map)) {
            throw new IllegalArgumentException("not a JSON object: " + value);
        }
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    static List<Object> array(Object value) {
        if (!(value instanceof List)) {
            throw new IllegalArgumentException("not a JSON array: " + value);
        }
        return (List<Object>) value;
    }
}
