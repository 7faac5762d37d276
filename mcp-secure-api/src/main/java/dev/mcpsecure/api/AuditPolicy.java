package dev.mcpsecure.api;

/**
 * What the audit log records besides the decision itself.
 *
 * @param includeArguments whether audit events carry the tool arguments (redacted); by default
 *     they carry only the arguments' SHA-256 digest
 */
public record AuditPolicy(boolean includeArguments) {

    private static final AuditPolicy DEFAULTS = new AuditPolicy(false);

    /** Digests only, no argument values. */
    public static AuditPolicy defaults() {
        return DEFAULTS;
    }
}
