package dev.mcpsecure.api;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Which secrets tools may ask for by name, and where each lives. Deny by default: a name not
 * listed is refused ({@link ReasonCode#SECRET_UNKNOWN}) without asking the vault.
 *
 * @param secrets name (what tool code asks for) to its location in the vault
 */
public record SecretPolicy(Map<String, SecretLocation> secrets) {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,128}");
    private static final SecretPolicy NONE = new SecretPolicy(Map.of());

    /** Validates every name and location; copies the map, keeping its order. */
    public SecretPolicy {
        Checks checks =
                new Checks().check("secrets", secrets == null ? "is required (use an empty map for none)" : null);
        if (secrets != null) {
            secrets.forEach((name, location) -> {
                String path = PolicyProblem.keyPath("secrets", String.valueOf(name));
                checks.check(
                        path, Checks.matches(name, NAME, "a secret name is 1 to 128 letters, digits, '_', '.' or '-'"));
                checks.check(path, Checks.notNull(location));
            });
        }
        checks.throwIfAny();
        secrets = Collections.unmodifiableMap(new LinkedHashMap<>(secrets));
    }

    /** No secrets: every name is refused. */
    public static SecretPolicy none() {
        return NONE;
    }
}
