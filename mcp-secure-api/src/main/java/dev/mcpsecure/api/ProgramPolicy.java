package dev.mcpsecure.api;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One program tools may run through {@code SecureExec}, and the argument vectors it accepts. Never
 * run through a shell.
 *
 * @param path the program's absolute, normalized path
 * @param sha256 the binary's SHA-256 as 64 lower-case hex digits, re-checked before each run; empty
 *     for no pin
 * @param subcommands the first argument must be one of these, when any are listed
 * @param flags the options (starting with {@code -}) allowed anywhere; any other option is denied
 * @param args rules for the positional arguments, by position
 * @param maxArgs most arguments in one run, 0 to 1024
 * @param maxArgLength longest single argument in characters, 1 to 131072
 * @param env names of environment variables passed through; the environment otherwise starts empty
 * @param timeout longest run, 1 ms to 1 h; the whole process tree is killed after it
 * @param maxOutputBytes cap on each of stdout and stderr, 1 byte to 256 MiB
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
        long maxOutputBytes) {

    /** Argument count cap when the policy sets none. */
    public static final int DEFAULT_MAX_ARGS = 32;
    /** Argument length cap when the policy sets none. */
    public static final int DEFAULT_MAX_ARG_LENGTH = 4096;
    /** Run timeout when the policy sets none. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    /** Output cap when the policy sets none: 1 MiB per stream. */
    public static final long DEFAULT_MAX_OUTPUT_BYTES = 1L << 20;

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern SUBCOMMAND = Pattern.compile("[^-\\s]\\S*");
    private static final Pattern FLAG = Pattern.compile("-[^\\s=]+");

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
        eachMatches(checks, "subcommands", subcommands, SUBCOMMAND, "a subcommand is one word not starting with '-'");
        eachMatches(checks, "flags", flags, FLAG, "a flag starts with '-' and has no spaces or '='");
        eachMatches(checks, "env", env, ENV_NAME, "an environment variable name is letters, digits and '_'");
        checks.throwIfAny();
        subcommands = List.copyOf(subcommands);
        flags = List.copyOf(flags);
        args = List.copyOf(args);
        env = List.copyOf(env);
    }

    /** A builder for the program at {@code path}; every option not set takes its default. */
    public static Builder builder(Path path) {
        return new Builder(path);
    }

    private static void eachMatches(Checks checks, String field, List<String> values, Pattern pattern, String rule) {
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

        /** @throws InvalidPolicyException naming every bad subcommand, flag or variable name */
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
                    maxOutputBytes == null ? DEFAULT_MAX_OUTPUT_BYTES : maxOutputBytes);
        }
    }
}
