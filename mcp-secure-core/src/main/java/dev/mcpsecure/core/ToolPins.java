package dev.mcpsecure.core;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.mcpsecure.core.internal.pinning.Jcs;
import io.modelcontextprotocol.spec.McpSchema;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The pin of a tool definition: SHA-256 over the RFC 8785 (JCS) canonical JSON of the definition
 * as clients see it in {@code tools/list}, limited to {@link #PINNED_FIELDS} (name, title,
 * description, inputSchema, outputSchema, annotations) and leaving out fields that are absent or
 * {@code null}. {@code _meta} and icons are not pinned.
 *
 * <p>A client can compute the same value from a listed tool: keep those fields of the tool's JSON
 * object, drop the {@code null} ones, canonicalize with JCS, hash with SHA-256, write in lower-case
 * hex. Servers built with {@link SecureMcpServer} publish it in each listed tool's {@code _meta}
 * under {@link #META_KEY}. Key order and white space in schemas do not change it; any other
 * difference does. Thread-safe.
 */
public final class ToolPins {

    /** The {@code _meta} key under which listed tools carry their pin. */
    public static final String META_KEY = "dev.mcpsecure/sha256";

    /** The fields of a tool definition that its pin covers, in the order drift reports name them. */
    public static final List<String> PINNED_FIELDS =
            List.of("name", "title", "description", "inputSchema", "outputSchema", "annotations");

    private static final JsonMapper JSON = JsonMapper.builder()
            .changeDefaultPropertyInclusion(inclusion -> inclusion.withValueInclusion(JsonInclude.Include.NON_NULL))
            .build();

    private ToolPins() {}

    /**
     * The pin of {@code tool}: 64 lower-case hex digits.
     *
     * @throws IllegalArgumentException if the definition holds a value JSON cannot carry (NaN, a
     *     lone surrogate)
     */
    public static String hash(McpSchema.Tool tool) {
        return sha256(Jcs.canonicalize(pinned(tool)));
    }

    /**
     * The pin of each field of {@code tool} that is present, by field name, in {@link
     * #PINNED_FIELDS} order: what lockfiles record so that drift names the field that changed.
     */
    public static Map<String, String> fieldHashes(McpSchema.Tool tool) {
        ObjectNode pinned = pinned(tool);
        Map<String, String> hashes = new LinkedHashMap<>();
        for (String field : PINNED_FIELDS) {
            JsonNode value = pinned.get(field);
            if (value != null) {
                hashes.put(field, sha256(Jcs.canonicalize(value)));
            }
        }
        return hashes;
    }

    /**
     * The RFC 8785 canonical form of the JSON text {@code json}, as UTF-8.
     *
     * @throws IllegalArgumentException if the text is not one JSON value, repeats a member name,
     *     holds a lone surrogate or a number no double can hold
     */
    public static byte[] canonicalJson(String json) {
        return Jcs.canonicalize(json);
    }

    /** The lower-case hex SHA-256 of {@code text} as UTF-8, as lockfiles write a hash. */
    static String sha256(String text) {
        return sha256(text.getBytes(StandardCharsets.UTF_8));
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    private static ObjectNode pinned(McpSchema.Tool tool) {
        JsonNode all = JSON.valueToTree(tool);
        ObjectNode pinned = JSON.createObjectNode();
        for (String field : PINNED_FIELDS) {
            JsonNode value = all.get(field);
            if (value != null && !value.isNull()) {
                pinned.set(field, value);
            }
        }
        return pinned;
    }
}
