package dev.mcpsecure.api;

import java.util.List;

/**
 * A policy that cannot be used, with every problem found in it.
 *
 * <p>Thrown by the policy records' constructors and builders (a programmer or configuration
 * mistake, hence an {@link IllegalArgumentException}) and by the policy loader, which collects the
 * problems of a whole file into one exception. Nothing is half-built: when this is thrown, no
 * policy object exists.
 */
public final class InvalidPolicyException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    /** The problems, at least one; an unmodifiable list. */
    private final List<PolicyProblem> problems;

    /**
     * @param problems at least one problem
     * @throws IllegalArgumentException if {@code problems} is empty
     */
    public InvalidPolicyException(List<PolicyProblem> problems) {
        super(describe(problems));
        this.problems = List.copyOf(problems);
    }

    /** Every problem found, in the order of the policy's text (or of the checks, for code). */
    public List<PolicyProblem> problems() {
        return problems;
    }

    private static String describe(List<PolicyProblem> problems) {
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("an InvalidPolicyException needs at least one problem");
        }
        if (problems.size() == 1) {
            return "invalid policy: " + problems.get(0);
        }
        StringBuilder out =
                new StringBuilder("invalid policy, ").append(problems.size()).append(" problems:");
        for (PolicyProblem problem : problems) {
            out.append("\n  - ").append(problem);
        }
        return out.toString();
    }
}
