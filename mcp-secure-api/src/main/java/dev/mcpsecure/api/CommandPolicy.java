package dev.mcpsecure.api;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Which programs tools may run through {@code SecureExec}: only those listed, by logical name.
 *
 * @param programs logical name (letters, digits, {@code .}, {@code _}, {@code -}) to program; none
 *     means no program may run
 * @param maxConcurrentProcesses processes running at once across all programs, 1 to 256
 */
public record CommandPolicy(Map<String, ProgramPolicy> programs, int maxConcurrentProcesses) {

    /** Concurrent process cap when the policy sets none. */
    public static final int DEFAULT_MAX_CONCURRENT_PROCESSES = 4;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final CommandPolicy NONE = new CommandPolicy(Map.of(), DEFAULT_MAX_CONCURRENT_PROCESSES);

    /** Validates the names and the cap, and copies the map, keeping its order. */
    public CommandPolicy {
        Checks checks = new Checks()
                .check("programs", programs == null ? "is required (use an empty map for none)" : null)
                .check("maxConcurrentProcesses", Checks.between(maxConcurrentProcesses, 1, 256));
        if (programs != null) {
            programs.forEach((name, program) -> {
                String path = PolicyProblem.keyPath("programs", String.valueOf(name));
                checks.check(
                        path, Checks.matches(name, NAME, "a program name is 1 to 64 letters, digits, '.', '_' or '-'"));
                checks.check(path, Checks.notNull(program));
            });
        }
        checks.throwIfAny();
        programs = Collections.unmodifiableMap(new LinkedHashMap<>(programs));
    }

    /** No programs: nothing may run. */
    public static CommandPolicy none() {
        return NONE;
    }
}
