package dev.mcpsecure.api;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Collects the problems of one record under construction, so a record reports every bad component
 * at once, each under its own path, instead of only the first.
 *
 * <p>The static checks return {@code null} for a good value and otherwise the message to report;
 * builders use {@link #require} to fail a setter at once with the same message.
 */
final class Checks {

    private final List<PolicyProblem> problems = new ArrayList<>();

    /** Records {@code message} at {@code path} unless it is {@code null}. */
    Checks check(String path, String message) {
        if (message != null) {
            problems.add(PolicyProblem.at(path, message));
        }
        return this;
    }

    /** Records the problems of a nested record built here, under {@code path}. */
    Checks nested(String path, InvalidPolicyException e) {
        for (PolicyProblem problem : e.problems()) {
            problems.add(problem.under(path));
        }
        return this;
    }

    boolean ok() {
        return problems.isEmpty();
    }

    /** @throws InvalidPolicyException with every problem recorded, if there is any */
    void throwIfAny() {
        if (!problems.isEmpty()) {
            throw new InvalidPolicyException(problems);
        }
    }

    /** For builder setters: throws at once, naming the option, when {@code message} is not null. */
    static void require(String option, String message) {
        if (message != null) {
            throw new InvalidPolicyException(List.of(PolicyProblem.at(option, message)));
        }
    }

    /**
     * For builders: an option may be set once.
     *
     * @throws IllegalStateException if {@code current} is already set
     */
    static void requireUnset(Object current, String option) {
        if (current != null) {
            throw new IllegalStateException(option + " was already set to " + current);
        }
    }

    static String matches(String value, Pattern pattern, String rule) {
        if (value == null) {
            return "is required";
        }
        return pattern.matcher(value).matches() ? null : quote(value) + " is not valid: " + rule;
    }

    static String notNull(Object value) {
        return value == null ? "is required" : null;
    }

    static String noNullElements(Collection<?> values) {
        if (values == null) {
            return "is required (use an empty list for none)";
        }
        for (Object value : values) {
            if (value == null) {
                return "must not contain null elements";
            }
        }
        return null;
    }

    /** Whether {@code values} is present and holds no null, so its elements can be checked one by one. */
    static boolean usable(Collection<?> values) {
        return noNullElements(values) == null;
    }

    static String between(long value, long min, long max) {
        return value < min || value > max ? "must be between " + min + " and " + max + " but was " + value : null;
    }

    static String between(Duration value, Duration min, Duration max) {
        if (value == null) {
            return "is required";
        }
        return value.compareTo(min) < 0 || value.compareTo(max) > 0
                ? "must be between " + Units.duration(min) + " and " + Units.duration(max) + " but was "
                        + Units.duration(value)
                : null;
    }

    static String sizeBetween(long bytes, long min, long max) {
        return bytes < min || bytes > max
                ? "must be between " + Units.size(min) + " and " + Units.size(max) + " but was " + Units.size(bytes)
                : null;
    }

    /** A short text that is safe to quote in a message: at most 80 characters, controls escaped. */
    static String quote(String value) {
        if (value == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder("'");
        int limit = Math.min(value.length(), 80);
        for (int i = 0; i < limit; i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        if (value.length() > limit) {
            out.append("...");
        }
        return out.append('\'').toString();
    }
}
