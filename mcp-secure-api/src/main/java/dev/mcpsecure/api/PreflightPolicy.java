package dev.mcpsecure.api;

/**
 * What the server does with its start-up check of its own runtime (user, capabilities, seccomp,
 * read-only root, reachable Docker socket, SSH agent, cloud credentials, secrets in the
 * environment, public binds, long token lifetimes, wildcard egress).
 *
 * @param mode {@link Mode#REPORT} (the default) or {@link Mode#ENFORCE}
 */
public record PreflightPolicy(Mode mode) {

    /** What a failed check does. */
    public enum Mode {
        /** Log the table and an audit event, and start. */
        REPORT,
        /** Refuse to start on any failed check, with the table and a distinct exit code. */
        ENFORCE
    }

    private static final PreflightPolicy DEFAULTS = new PreflightPolicy(Mode.REPORT);

    /** Validates the mode. */
    public PreflightPolicy {
        new Checks().check("mode", Checks.notNull(mode)).throwIfAny();
    }

    /** Report only. */
    public static PreflightPolicy defaults() {
        return DEFAULTS;
    }
}
