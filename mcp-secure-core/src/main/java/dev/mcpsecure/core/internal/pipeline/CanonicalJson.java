package dev.mcpsecure.core.internal.pipeline;

import java.io.OutputStream;
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

    private static final JsonMapper PLAIN = JsonMapper.builder().build();

    /**
     * Whether {@code value} as JSON is longer than {@code limit} bytes. Counts as it serializes,
     * without keeping the bytes, and stops at the first byte over the limit.
     */
    static boolean longerThan(Object value, long limit) {
        OutputStream counter = new OutputStream() {
            private long count;

            @Override
            public void write(int b) {
                add(1);
            }

            @Override
            public void write(byte[] bytes, int offset, int length) {
                add(length);
            }

            private void add(long bytes) {
                count += bytes;
                if (count > limit) {
                    throw new OverLimit();
                }
            }
        };
        try {
            PLAIN.writeValue(counter, value);
            return false;
        } catch (RuntimeException e) {
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof OverLimit) {
                    return true;
                }
            }
            throw e;
        }
    }

    /** Stops serialization once the limit is passed. */
    private static final class OverLimit extends RuntimeException {
        private static final long serialVersionUID = 1L;

        OverLimit() {
            super(null, null, false, false);
        }
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
