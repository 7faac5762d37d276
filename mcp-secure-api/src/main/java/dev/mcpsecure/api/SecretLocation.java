package dev.mcpsecure.api;

import java.util.regex.Pattern;

/**
 * Where one named secret lives: a key of a KV version 2 secret in the vault.
 *
 * @param mount the KV v2 mount, such as {@code secret}
 * @param path the secret's path under the mount, such as {@code weather/api}
 * @param key the field of that secret holding the value, such as {@code api_key}
 */
public record SecretLocation(String mount, String path, String key) {

    private static final Pattern SEGMENTS =
            Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}(/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}){0,15}");
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_.-]{1,128}");
    private static final String SEGMENT_RULE =
            "write segments of letters, digits, '_', '.' or '-' joined by '/', without a leading '.' or '/'";

    /** Validates every component: no empty, dot-led or {@code ..} segments, so a location names one secret. */
    public SecretLocation {
        new Checks()
                .check("mount", Checks.matches(mount, SEGMENTS, SEGMENT_RULE))
                .check("path", Checks.matches(path, SEGMENTS, SEGMENT_RULE))
                .check("key", Checks.matches(key, KEY, "a key is 1 to 128 letters, digits, '_', '.' or '-'"))
                .throwIfAny();
    }

    /** {@code mount/path#key}, for messages. */
    @Override
    public String toString() {
        return mount + "/" + path + "#" + key;
    }
}
