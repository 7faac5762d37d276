package dev.mcpsecure.api;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * What the audit log records besides the decision itself, and what happens when it cannot.
 *
 * @param includeArguments whether audit events carry the tool arguments (redacted); by default
 *     they carry only the arguments' SHA-256 digest
 * @param failMode what a call gets when its audit event cannot be written (the sink throws, or
 *     takes longer than {@code timeout}): {@link FailMode#CLOSED} (the default) withholds an allowed
 *     call's result ({@code AUDIT_UNAVAILABLE}) and, while a write is stuck past the timeout,
 *     refuses new calls without waiting; {@link FailMode#OPEN} lets calls through and only counts
 *     the lost events
 * @param timeout how long one audit write may take before it counts as failed, 1 ms to 1 min
 * @param file where the launchers write audit records as JSON lines, a file nothing else writes
 *     to; empty: the launchers' default ({@code MCP_SECURE_AUDIT_FILE}, else the SLF4J logger
 *     {@code dev.mcpsecure.audit}). A relative path in a policy file is resolved against the policy
 *     file's folder
 */
public record AuditPolicy(boolean includeArguments, FailMode failMode, Duration timeout, Optional<Path> file) {

    /** What a call gets when its audit event cannot be written. */
    public enum FailMode {
        /** No unaudited result: the call is denied with {@code AUDIT_UNAVAILABLE}. */
        CLOSED,
        /** The call goes on; the lost event is counted and logged. */
        OPEN
    }

    /** The audit write timeout when the policy sets none. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);

    private static final AuditPolicy DEFAULTS = new AuditPolicy(false, FailMode.CLOSED, DEFAULT_TIMEOUT);

    /** With no audit file: the launchers' default destination. */
    public AuditPolicy(boolean includeArguments, FailMode failMode, Duration timeout) {
        this(includeArguments, failMode, timeout, Optional.empty());
    }

    /** Validates the mode and the timeout. */
    public AuditPolicy {
        new Checks()
                .check("failMode", Checks.notNull(failMode))
                .check("timeout", Checks.between(timeout, Duration.ofMillis(1), Duration.ofMinutes(1)))
                .check("file", Checks.notNull(file))
                .throwIfAny();
    }

    /** This policy with its audit file resolved against {@code folder}, when relative. */
    public AuditPolicy resolvedAgainst(Path folder) {
        return file.isEmpty() || file.get().isAbsolute()
                ? this
                : new AuditPolicy(includeArguments, failMode, timeout, Optional.of(folder.resolve(file.get())));
    }

    /** Arguments as asked, fail closed, the default timeout. */
    public AuditPolicy(boolean includeArguments) {
        this(includeArguments, FailMode.CLOSED, DEFAULT_TIMEOUT);
    }

    /** Digests only, no argument values; fail closed after {@link #DEFAULT_TIMEOUT}. */
    public static AuditPolicy defaults() {
        return DEFAULTS;
    }
}
