package dev.mcpsecure.core;

import java.util.List;

/**
 * The tool surface does not match its lockfile, or the lockfile cannot be trusted: drift in
 * enforce mode, a missing, malformed or badly signed lockfile, or poisoning findings in strict
 * lint mode. The server does not start. Each problem names the tool and field, or the file, and
 * how to fix it; none holds a secret.
 */
public final class PinningException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    /** @param problems at least one, each a sentence */
    public PinningException(List<String> problems) {
        super(String.join("; ", problems));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a pinning failure names at least one problem");
        }
        this.problems = List.copyOf(problems);
    }

    /** Every problem found, each a sentence. */
    public List<String> problems() {
        return problems;
    }
}
