package dev.mcpsecure.api;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One program tools may run through {@code SecureExec}, and the argument vectors it accepts. Never
 * run through a shell.
 *
 * <p>The program is started as {@code path}, then {@code fixedArgs}, then the profile's own
 * leading arguments, then the tool's arguments (checked against the rules here); its environment
 * is {@code PATH}, the {@code env} variables, then {@code fixedEnv}, then the profile's variables.
 * What is fixed comes after what the tool chose wherever the program reads the last value, and the
 * tool can never name a fixed variable.
 *
 * <p>Problems found here name the policy file's keys: {@code subcommandRules} is written under
 * {@code subcommands} there, as a mapping.
 *
 * @param path the program's absolute, normalized path
 * @param sha256 the binary's SHA-256 as 64 lower-case hex digits, re-checked before each run; empty
 *     for no pin
 * @param subcommands the first argument must be one of these, when any are listed; all of them take
 *     {@code flags} and {@code args}
 * @param flags the options (starting with {@code -}) allowed anywhere; any other option is denied
 * @param args rules for the positional arguments, by position
 * @param maxArgs most arguments in one run, 0 to 1024
 * @param maxArgLength longest single argument in characters, 1 to 131072
 * @param env names of environment variables passed through; the environment otherwise starts empty
 * @param timeout longest run, 1 ms to 1 h; the whole process tree is killed after it
 * @param maxOutputBytes cap on each of stdout and stderr, 1 byte to 256 MiB
 * @param subcommandRules subcommand to the rules of its own for what follows it; when any are
 *     given, the first argument must be one of them, and {@code subcommands}, {@code flags} and
 *     {@code args} stay empty
 * @param fixedArgs arguments placed right after the program, before anything the tool passes, at
 *     most {@value #MAX_FIXED_ARGS}, each without NUL and at most {@value #MAX_FIXED_LENGTH}
 *     characters
 * @param fixedEnv variables the program always gets; never {@code PATH}, never also in {@code env}
 * @param profile the {@link ProgramProfile} to apply; empty for {@link ProgramProfile#defaultFor}
 *     the program's file name
 */
public record ProgramPolicy(
        Path path,
        Optional<String> sha256,
        List<String> subcommands,
        List<String> flags,
        List<ArgRule> args,
        int maxArgs,
        int maxArgLength,
        List<String> env,
        Duration timeout,
        long maxOutputBytes,
        Map<String, SubcommandRule> subcommandRules,
        List<String> fixedArgs,
        Map<String, String> fixedEnv,
        Optional<ProgramProfile> profile) {

    /** Argument count cap when the policy sets none. */
    public static final int DEFAULT_MAX_ARGS = 32;
    /** Argument length cap when the policy sets none. */
    public static final int DEFAULT_MAX_ARG_LENGTH = 4096;
    /** Run timeout when the policy sets none. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    /** Output cap when the policy sets none: 1 MiB per stream. */
    public static final long DEFAULT_MAX_OUTPUT_BYTES = 1L << 20;
    /** Most fixed arguments. */
    public static final int MAX_FIXED_ARGS = 256;
    /** Longest fixed argument or fixed variable value, in characters. */
    public static final int MAX_FIXED_LENGTH = 4096;

    static final Pattern FLAG = Pattern.compile("-[^\\s=]+");
    static final String FLAG_RULE = "a flag starts with '-' and has no spaces or '='";
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern SUBCOMMAND = Pattern.compile("[^-\\s]\\S*");
    private static final String SUBCOMMAND_RULE = "a subcommand is one word not starting with '-'";

    /** Validates every component and copies the lists. */
    public ProgramPolicy {
        Checks checks = new Checks()
                .check("path", pathProblem(path))
                .check("sha256", sha256 == null ? "is required (use Optional.empty() for no pin)" : null)
                .check("subcommands", Checks.noNullElements(subcommands))
                .check("flags", Checks.noNullElements(flags))
                .check("args", Checks.noNullElements(args))
                .check("maxArgs", Checks.between(maxArgs, 0, 1024))
                .check("maxArgLength", Checks.between(maxArgLength, 1, 131_072))
                .check("env", Checks.noNullElements(env))
                .check("timeout", Checks.between(timeout, ToolPolicy.MIN_TIMEOUT, ToolPolicy.MAX_TIMEOUT))
                .check("maxOutputBytes", Checks.sizeBetween(maxOutputBytes, 1, ToolPolicy.MAX_OUTPUT_CAP));
        if (sha256 != null && sha256.isPresent()) {
            checks.check(
                    "sha256",
                    Checks.matches(sha256.get(), SHA256, "write the SHA-256 as 64 lower-case hex digits (sha256sum)"));
        }
        eachMatches(checks, "subcommands", subcommands, SUBCOMMAND, SUBCOMMAND_RULE);
        eachMatches(checks, "flags", flags, FLAG, FLAG_RULE);
        eachMatches(checks, "env", env, ENV_NAME, "an environment variable name is letters, digits and '_'");
        checkSubcommandRules(checks, subcommandRules, subcommands, flags, args);
        checkFixedArgs(checks, fixedArgs);
        checkFixedEnv(checks, fixedEnv, env);
        checks.check("profile", profile == null ? "is required (use Optional.empty() for the default)" : null);
        checks.throwIfAny();
        subcommands = List.copyOf(subcommands);
        flags = List.copyOf(flags);
        args = List.copyOf(args);
        env = List.copyOf(env);
        subcommandRules = Collections.unmodifiableMap(new LinkedHashMap<>(subcommandRules));
        fixedArgs = List.copyOf(fixedArgs);
        fixedEnv = Collections.unmodifiableMap(new LinkedHashMap<>(fixedEnv));
    }

    /** The subcommands the first argument may be: {@link #subcommands}, or the keys of {@link #subcommandRules}. */
    public List<String> allowedSubcommands() {
        return subcommandRules.isEmpty() ? subcommands : List.copyOf(subcommandRules.keySet());
    }

    /** The profile this program runs under when its real file is {@code real}: the one named, else the default for {@link #path} or {@code real}. */
    public ProgramProfile profileFor(Path real) {
        return profile.orElseGet(() -> ProgramProfile.defaultFor(path) == ProgramProfile.GIT
                ? ProgramProfile.GIT
                : ProgramProfile.defaultFor(real));
    }

    private static void checkSubcommandRules(
            Checks checks,
            Map<String, SubcommandRule> rules,
            List<String> subcommands,
            List<String> flags,
            List<ArgRule> args) {
        if (rules == null) {
            checks.check("subcommands", "subcommandRules is required (use an empty map for none)");
            return;
        }
        rules.forEach((name, rule) -> {
            String path = PolicyProblem.keyPath("subcommands", String.valueOf(name));
            checks.check(path, Checks.matches(name, SUBCOMMAND, SUBCOMMAND_RULE));
            checks.check(path, Checks.notNull(rule));
        });
        if (rules.isEmpty()) {
            return;
        }
        if (subcommands != null && !subcommands.isEmpty()) {
            checks.check(
                    "subcommands",
                    "list subcommands either by name (sharing flags and args) or with rules of their own, not both");
        }
        if (flags != null && !flags.isEmpty()) {
            checks.check(
                    "flags",
                    "with rules for each subcommand, list the flags under the subcommands that take them, not here");
        }
        if (args != null && !args.isEmpty()) {
            checks.check(
                    "args",
                    "with rules for each subcommand, list the argument rules under the subcommands that take them,"
                            + " not here");
        }
    }

    private static void checkFixedArgs(Checks checks, List<String> fixedArgs) {
        checks.check("fixedArgs", Checks.noNullElements(fixedArgs));
        if (!Checks.usable(fixedArgs)) {
            return;
        }
        checks.check("fixedArgs", Checks.between(fixedArgs.size(), 0, MAX_FIXED_ARGS));
        for (int i = 0; i < fixedArgs.size(); i++) {
            checks.check(PolicyProblem.indexPath("fixedArgs", i), fixedValueProblem(fixedArgs.get(i)));
        }
    }

    private static void checkFixedEnv(Checks checks, Map<String, String> fixedEnv, List<String> env) {
        if (fixedEnv == null) {
            checks.check("fixedEnv", "is required (use an empty map for none)");
            return;
        }
        fixedEnv.forEach((name, value) -> {
            String path = PolicyProblem.keyPath("fixedEnv", String.valueOf(name));
            checks.check(
                    path, Checks.matches(name, ENV_NAME, "an environment variable name is letters, digits and '_'"));
            if ("PATH".equals(name)) {
                checks.check(path, "PATH is always the fixed safe PATH; it cannot be set here");
            }
            if (env != null && env.contains(name)) {
                checks.check(
                        path,
                        "variable " + Checks.quote(name) + " is also in env, where a tool could set it; a fixed"
                                + " variable is never the tool's: remove it from env");
            }
            checks.check(path, value == null ? "needs a value (an empty text is allowed)" : fixedValueProblem(value));
        });
    }

    private static String fixedValueProblem(String value) {
        if (value.indexOf('\0') >= 0) {
            return "cannot contain NUL";
        }
        return value.length() > MAX_FIXED_LENGTH
                ? "is " + value.length() + " characters long; at most " + MAX_FIXED_LENGTH + " are allowed"
                : null;
    }

    /** A builder for the program at {@code path}; every option not set takes its default. */
    public static Builder builder(Path path) {
        return new Builder(path);
    }

    static void eachMatches(Checks checks, String field, List<String> values, Pattern pattern, String rule) {
        if (!Checks.usable(values)) {
            return;
        }
        for (int i = 0; i < values.size(); i++) {
            checks.check(PolicyProblem.indexPath(field, i), Checks.matches(values.get(i), pattern, rule));
        }
    }

    static String pathProblem(Path path) {
        if (path == null) {
            return "is required";
        }
        if (!path.isAbsolute()) {
            return "program " + Checks.quote(path.toString())
                    + " is relative; write its absolute path, such as /usr/bin/git (run 'command -v' to find it)";
        }
        if (!path.normalize().equals(path)) {
            return "program " + Checks.quote(path.toString()) + " has '.' or '..' segments; write it as "
                    + Checks.quote(path.normalize().toString());
        }
        return null;
    }

    /** Builds a {@link ProgramPolicy}. Not thread-safe. */
    public static final class Builder {
        private final Path path;
        private String sha256;
        private final List<String> subcommands = new ArrayList<>();
        private final List<String> flags = new ArrayList<>();
        private final List<ArgRule> args = new ArrayList<>();
        private final List<String> env = new ArrayList<>();
        private final Map<String, SubcommandRule> subcommandRules = new LinkedHashMap<>();
        private final List<String> fixedArgs = new ArrayList<>();
        private final Map<String, String> fixedEnv = new LinkedHashMap<>();
        private ProgramProfile profile;
        private Integer maxArgs;
        private Integer maxArgLength;
        private Duration timeout;
        private Long maxOutputBytes;

        private Builder(Path path) {
            Checks.require("path", pathProblem(path));
            this.path = path;
        }

        /** Pins the binary to this SHA-256 (64 lower-case hex digits). */
        public Builder sha256(String sha256) {
            Checks.requireUnset(this.sha256, "sha256");
            Checks.require("sha256", Checks.matches(sha256, SHA256, "write the SHA-256 as 64 lower-case hex digits"));
            this.sha256 = sha256;
            return this;
        }

        /** Allows these subcommands as the first argument. */
        public Builder subcommands(String... values) {
            subcommands.addAll(List.of(values));
            return this;
        }

        /**
         * Allows {@code name} as the first argument, followed by what {@code rule} accepts.
         *
         * @throws IllegalStateException if {@code name} already has a rule
         */
        public Builder subcommand(String name, SubcommandRule rule) {
            Objects.requireNonNull(rule, "rule");
            if (subcommandRules.putIfAbsent(name, rule) != null) {
                throw new IllegalStateException("subcommand " + name + " already has a rule");
            }
            return this;
        }

        /** Puts these arguments right after the program, before the tool's. */
        public Builder fixedArgs(String... values) {
            fixedArgs.addAll(List.of(values));
            return this;
        }

        /**
         * Always gives the program {@code name=value}.
         *
         * @throws IllegalStateException if {@code name} already has a value
         */
        public Builder fixedEnv(String name, String value) {
            Objects.requireNonNull(value, "value");
            if (fixedEnv.putIfAbsent(name, value) != null) {
                throw new IllegalStateException("fixedEnv " + name + " was already set");
            }
            return this;
        }

        /** Applies {@code value} instead of the default for the program's file name. */
        public Builder profile(ProgramProfile value) {
            Checks.requireUnset(profile, "profile");
            profile = Objects.requireNonNull(value, "profile");
            return this;
        }

        /** Allows these flags. */
        public Builder flags(String... values) {
            flags.addAll(List.of(values));
            return this;
        }

        /** Adds the rule for the next positional argument. */
        public Builder arg(ArgRule rule) {
            args.add(Objects.requireNonNull(rule, "rule"));
            return this;
        }

        /** Passes these environment variables through. */
        public Builder env(String... names) {
            env.addAll(List.of(names));
            return this;
        }

        /** Most arguments in one run, 0 to 1024; default {@link #DEFAULT_MAX_ARGS}. */
        public Builder maxArgs(int value) {
            Checks.requireUnset(maxArgs, "maxArgs");
            Checks.require("maxArgs", Checks.between(value, 0, 1024));
            maxArgs = value;
            return this;
        }

        /** Longest argument, 1 to 131072 characters; default {@link #DEFAULT_MAX_ARG_LENGTH}. */
        public Builder maxArgLength(int value) {
            Checks.requireUnset(maxArgLength, "maxArgLength");
            Checks.require("maxArgLength", Checks.between(value, 1, 131_072));
            maxArgLength = value;
            return this;
        }

        /** Longest run, 1 ms to 1 h; default {@link #DEFAULT_TIMEOUT}. */
        public Builder timeout(Duration value) {
            Checks.requireUnset(timeout, "timeout");
            Checks.require("timeout", Checks.between(value, ToolPolicy.MIN_TIMEOUT, ToolPolicy.MAX_TIMEOUT));
            timeout = value;
            return this;
        }

        /** Cap per output stream, 1 byte to 256 MiB; default {@link #DEFAULT_MAX_OUTPUT_BYTES}. */
        public Builder maxOutputBytes(long value) {
            Checks.requireUnset(maxOutputBytes, "maxOutputBytes");
            Checks.require("maxOutputBytes", Checks.sizeBetween(value, 1, ToolPolicy.MAX_OUTPUT_CAP));
            maxOutputBytes = value;
            return this;
        }

        /** @throws InvalidPolicyException naming every bad subcommand, flag, fixed value or variable name */
        public ProgramPolicy build() {
            return new ProgramPolicy(
                    path,
                    Optional.ofNullable(sha256),
                    subcommands,
                    flags,
                    args,
                    maxArgs == null ? DEFAULT_MAX_ARGS : maxArgs,
                    maxArgLength == null ? DEFAULT_MAX_ARG_LENGTH : maxArgLength,
                    env,
                    timeout == null ? DEFAULT_TIMEOUT : timeout,
                    maxOutputBytes == null ? DEFAULT_MAX_OUTPUT_BYTES : maxOutputBytes,
                    subcommandRules,
                    fixedArgs,
                    fixedEnv,
                    Optional.ofNullable(profile));
        }
    }
}
