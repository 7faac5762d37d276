package dev.mcpsecure.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The argument vector one subcommand of a program accepts, after the subcommand itself: which
 * options, which positional arguments, and how many arguments in all. Checked as the program-wide
 * rules are (see {@link ProgramPolicy}).
 *
 * @param flags the options (starting with {@code -}) allowed after this subcommand; any other is denied
 * @param args rules for the positional arguments after this subcommand, by position
 * @param maxArgs most arguments after the subcommand, 0 to 1024
 */
public record SubcommandRule(List<String> flags, List<ArgRule> args, int maxArgs) {

    /** Validates every component and copies the lists. */
    public SubcommandRule {
        Checks checks = new Checks()
                .check("flags", Checks.noNullElements(flags))
                .check("args", Checks.noNullElements(args))
                .check("maxArgs", Checks.between(maxArgs, 0, 1024));
        ProgramPolicy.eachMatches(checks, "flags", flags, ProgramPolicy.FLAG, ProgramPolicy.FLAG_RULE);
        checks.throwIfAny();
        flags = List.copyOf(flags);
        args = List.copyOf(args);
    }

    /** A builder; every option not set takes its default (no flags, no positional arguments, {@value ProgramPolicy#DEFAULT_MAX_ARGS} arguments). */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link SubcommandRule}. Not thread-safe. */
    public static final class Builder {
        private final List<String> flags = new ArrayList<>();
        private final List<ArgRule> args = new ArrayList<>();
        private Integer maxArgs;

        private Builder() {}

        /** Allows these flags after the subcommand. */
        public Builder flags(String... values) {
            flags.addAll(List.of(values));
            return this;
        }

        /** Adds the rule for the next positional argument. */
        public Builder arg(ArgRule rule) {
            args.add(Objects.requireNonNull(rule, "rule"));
            return this;
        }

        /** Most arguments after the subcommand, 0 to 1024; default {@value ProgramPolicy#DEFAULT_MAX_ARGS}. */
        public Builder maxArgs(int value) {
            Checks.requireUnset(maxArgs, "maxArgs");
            Checks.require("maxArgs", Checks.between(value, 0, 1024));
            maxArgs = value;
            return this;
        }

        /** @throws InvalidPolicyException naming every bad flag */
        public SubcommandRule build() {
            return new SubcommandRule(flags, args, maxArgs == null ? ProgramPolicy.DEFAULT_MAX_ARGS : maxArgs);
        }
    }
}
