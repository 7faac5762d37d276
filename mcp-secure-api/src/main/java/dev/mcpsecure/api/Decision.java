package dev.mcpsecure.api;

import java.io.Serializable;
import java.util.Objects;

/**
 * The outcome of one guard check.
 *
 * @param allowed whether the operation may proceed
 * @param reason the stable reason code; {@link ReasonCode#ALLOWED} exactly when {@code allowed}
 * @param detail a short human-readable explanation; never a secret, a token or a host path outside
 *     the policy's roots, since it may be shown to the MCP client
 */
public record Decision(boolean allowed, ReasonCode reason, String detail) implements Serializable {

    private static final long serialVersionUID = 1L;

    private static final Decision ALLOW = new Decision(true, ReasonCode.ALLOWED, "allowed");

    /** Validates that {@code allowed} and {@code reason} agree. */
    public Decision {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(detail, "detail");
        if (allowed != (reason == ReasonCode.ALLOWED)) {
            throw new IllegalArgumentException(
                    "an allowed decision has reason ALLOWED and a denial any other reason, but got allowed=" + allowed
                            + " with " + reason);
        }
    }

    /** The shared allow decision. */
    public static Decision allow() {
        return ALLOW;
    }

    /** A denial with its reason code and a short, client-safe explanation. */
    public static Decision deny(ReasonCode reason, String detail) {
        return new Decision(false, reason, detail);
    }

    /** @throws PolicyViolationException carrying this decision, if it is a denial */
    public void orThrow() {
        if (!allowed) {
            throw new PolicyViolationException(this);
        }
    }
}
