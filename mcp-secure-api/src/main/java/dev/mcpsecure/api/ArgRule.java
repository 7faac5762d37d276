package dev.mcpsecure.api;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** What one positional argument of a program may be. Arguments never reach a shell. */
public sealed interface ArgRule {

    /** Exactly {@code value}. */
    record Literal(String value) implements ArgRule {
        /** Validates the value. */
        public Literal {
            new Checks().check("literal", argumentProblem(value)).throwIfAny();
        }
    }

    /** One of {@code values}. */
    record OneOf(List<String> values) implements ArgRule {
        /** Validates and copies the values; at least one. */
        public OneOf {
            Checks checks = new Checks().check("oneOf", Checks.noNullElements(values));
            if (checks.ok()) {
                checks.check("oneOf", values.isEmpty() ? "must list at least one value" : null);
                for (int i = 0; i < values.size(); i++) {
                    checks.check(PolicyProblem.indexPath("oneOf", i), argumentProblem(values.get(i)));
                }
            }
            checks.throwIfAny();
            values = List.copyOf(values);
        }
    }

    /** A value the whole of which matches the regular expression {@code regex}. */
    record Regex(String regex) implements ArgRule {
        /** Validates that {@code regex} compiles. */
        public Regex {
            new Checks().check("regex", regexProblem(regex)).throwIfAny();
        }
    }

    /** A file path, checked by the filesystem guard for {@code access}. */
    record PathArgument(FileAccess access) implements ArgRule {
        /** Validates the access. */
        public PathArgument {
            new Checks().check("path", Checks.notNull(access)).throwIfAny();
        }
    }

    /**
     * An http(s) URL that the policy's egress rules allow for {@code method}, decided as {@code
     * EgressHttpClient} decides its requests (same parser, same rules; an IP literal is checked
     * against the special addresses, a host name is not resolved). The program gets the URL as
     * that parser read it, rebuilt without user info or fragment.
     *
     * @param method the HTTP method an egress rule must allow for the URL (GET, HEAD, POST, PUT,
     *     PATCH, DELETE or OPTIONS; any case, stored upper case)
     */
    record UrlArgument(String method) implements ArgRule {
        /** Validates and upper-cases the method. */
        public UrlArgument {
            new Checks().check("url", EgressRule.methodProblem(method)).throwIfAny();
            method = method.toUpperCase(Locale.ROOT);
        }
    }

    private static String argumentProblem(String value) {
        if (value == null) {
            return "is required";
        }
        return value.indexOf('\0') >= 0 ? "an argument cannot contain NUL" : null;
    }

    private static String regexProblem(String regex) {
        if (regex == null) {
            return "is required";
        }
        try {
            Pattern.compile(regex);
            return null;
        } catch (PatternSyntaxException e) {
            return Checks.quote(regex) + " is not a valid regular expression (" + e.getDescription() + " at index "
                    + e.getIndex() + ")";
        }
    }
}
