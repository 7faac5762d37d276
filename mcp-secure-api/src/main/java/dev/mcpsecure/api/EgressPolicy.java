package dev.mcpsecure.api;

import java.util.List;

/**
 * Which outbound requests tools may make: only those a rule matches. No rules means no egress.
 *
 * @param rules the rules, tried in order
 */
public record EgressPolicy(List<EgressRule> rules) {

    private static final EgressPolicy NONE = new EgressPolicy(List.of());

    /** Copies the rules. */
    public EgressPolicy {
        new Checks().check("rules", Checks.noNullElements(rules)).throwIfAny();
        rules = List.copyOf(rules);
    }

    /** No rules: no outbound request is allowed. */
    public static EgressPolicy none() {
        return NONE;
    }
}
