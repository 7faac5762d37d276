package dev.mcpsecure.core.internal.pipeline;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * Tool arguments as canonical JSON (object keys sorted, no insignificant white space): their
 * size, which the argument limit applies to, and their SHA-256, which audit events carry instead
 * of the values.
 *
 * @param json the canonical JSON
 * @param bytes its length in UTF-8 bytes
 * @param sha256 lower-case hex SHA-256 of it
 */
record CanonicalJson(String json, long bytes, String sha256) {

    private static final JsonMapper SORTED = JsonMapper.builder()
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .build();

    /** The canonical form of {@code arguments}; {@code null} counts as {@code {}}. */
    static CanonicalJson of(Map<String, Object> arguments) {
        byte[] json = SORTED.writeValueAsBytes(arguments == null ? Map.of() : arguments);
        return new CanonicalJson(new String(json, StandardCharsets.UTF_8), json.length, sha256(json));
    }

    /** The size of {@code value} as JSON, for output limits. */
    static long sizeOf(Object value) {
        return SORTED.writeValueAsBytes(value).length;
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
