package dev.mcpsecure.api;

import java.util.Objects;

/**
 * An operation the policy denies. The root of every denial mcp-secure raises; it carries the
 * {@link Decision} with its stable {@link ReasonCode}.
 *
 * <p>Denials can come at a high rate from hostile callers, so this exception does not fill in a
 * stack trace. Its message is the decision's client-safe detail.
 */
public class PolicyViolationException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final Decision decision;

    /**
     * @param decision a denial
     * @throws IllegalArgumentException if {@code decision} allows
     */
    public PolicyViolationException(Decision decision) {
        super(Objects.requireNonNull(decision, "decision").reason() + ": " + decision.detail(), null, false, false);
        if (decision.allowed()) {
            throw new IllegalArgumentException("a PolicyViolationException needs a denial, not " + decision);
        }
        this.decision = decision;
    }

    /** The denial. */
    public Decision decision() {
        return decision;
    }

    /** The denial's reason code. */
    public ReasonCode reason() {
        return decision.reason();
    }
}
