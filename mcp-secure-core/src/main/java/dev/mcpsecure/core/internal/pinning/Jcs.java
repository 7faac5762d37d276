package dev.mcpsecure.core.internal.pinning;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The JSON Canonicalization Scheme of RFC 8785: object members sorted by their names' UTF-16 code
 * units, no white space, strings with only the escapes ECMAScript's {@code JSON.stringify} uses,
 * numbers as IEEE doubles in ECMAScript form ({@link Es6Numbers}), UTF-8 out.
 *
 * <p>Input with duplicate member names, lone surrogates, or numbers beyond a double's range is
 * refused, as the RFC requires. Thread-safe.
 */
public final class Jcs {

    private static final JsonMapper STRICT = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private Jcs() {}

    /**
     * The canonical form of the JSON text {@code json}.
     *
     * @throws IllegalArgumentException if the text is not one JSON value, repeats a member name,
     *     holds a lone surrogate or a number no double can hold
     */
    public static byte[] canonicalize(String json) {
        JsonNode tree;
        try {
            tree = STRICT.readTree(json);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("not a single JSON value: " + e.getOriginalMessage());
        }
        if (tree == null || tree.isMissingNode()) {
            throw new IllegalArgumentException("not a single JSON value: the text is empty");
        }
        return canonicalize(tree);
    }

    /**
     * The canonical form of {@code tree}.
     *
     * @throws IllegalArgumentException for a lone surrogate or a number no double can hold
     */
    public static byte[] canonicalize(JsonNode tree) {
        StringBuilder out = new StringBuilder(256);
        write(tree, out);
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void write(JsonNode node, StringBuilder out) {
        if (node.isObject()) {
            List<Map.Entry<String, JsonNode>> members = new ArrayList<>(node.properties());
            members.sort(Map.Entry.comparingByKey()); // String order is UTF-16 code unit order
            out.append('{');
            for (int i = 0; i < members.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                string(members.get(i).getKey(), out);
                out.append(':');
                write(members.get(i).getValue(), out);
            }
            out.append('}');
        } else if (node.isArray()) {
            out.append('[');
            for (int i = 0; i < node.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                write(node.get(i), out);
            }
            out.append(']');
        } else if (node.isString()) {
            string(node.stringValue(), out);
        } else if (node.isNumber()) {
            double value = node.doubleValue();
            if (Double.isInfinite(value)) {
                throw new IllegalArgumentException("the number " + node + " is beyond the range of a double");
            }
            out.append(Es6Numbers.format(value));
        } else if (node.isBoolean()) {
            out.append(node.booleanValue());
        } else if (node.isNull()) {
            out.append("null");
        } else {
            throw new IllegalArgumentException("a " + node.getNodeType() + " node is not JSON");
        }
    }

    private static void string(String value, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append("\\u00")
                                .append(Character.forDigit(c >> 4, 16))
                                .append(Character.forDigit(c & 0xF, 16));
                    } else if (Character.isHighSurrogate(c)
                            && i + 1 < value.length()
                            && Character.isLowSurrogate(value.charAt(i + 1))) {
                        out.append(c).append(value.charAt(++i));
                    } else if (Character.isSurrogate(c)) {
                        throw new IllegalArgumentException("a string holds a lone surrogate U+"
                                + Integer.toHexString(c).toUpperCase(java.util.Locale.ROOT) + " at index " + i
                                + ", which RFC 8785 refuses");
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
