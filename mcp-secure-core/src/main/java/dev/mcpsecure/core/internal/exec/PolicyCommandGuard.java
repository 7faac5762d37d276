package dev.mcpsecure.core.internal.exec;

import dev.mcpsecure.api.ArgRule;
import dev.mcpsecure.api.CommandGuard;
import dev.mcpsecure.api.CommandPolicy;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.EgressPolicy;
import dev.mcpsecure.api.FileAccess;
import dev.mcpsecure.api.PolicyProblem;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ProgramPolicy;
import dev.mcpsecure.api.ProgramProfile;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SubcommandRule;
import dev.mcpsecure.core.internal.egress.EgressTarget;
import dev.mcpsecure.core.internal.egress.PolicyEgressGuard;
import dev.mcpsecure.core.internal.files.PolicyFilesystemGuard;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The {@link CommandGuard} a {@link CommandPolicy} defines: only listed programs, by logical
 * name, with argument vectors their rules accept, an environment of listed variables only, and a
 * working directory inside a filesystem root. Never a shell.
 *
 * <p>Argument vector rules: the first argument must be a listed subcommand, when any are listed;
 * after it, a token starting with {@code -} is a flag and must be listed exactly, until a {@code
 * --} token, after which every token is positional; positional tokens are matched, by position,
 * against the argument rules, and there may be no more of them than rules. With rules per
 * subcommand, the flags, argument rules and argument count after the subcommand are that
 * subcommand's. {@code path} rules are checked by the filesystem guard and replaced by the real
 * path; {@code url} rules by the egress guard (the decision {@code EgressHttpClient} makes, with
 * its reason code) and replaced by the URL as that guard read it.
 *
 * <p>What runs: the real program, the policy's fixed arguments, then for the git profile its
 * leading arguments, the subcommand and the profile's options for it, then the rest of the
 * tool's arguments; the environment is {@code PATH}, the listed variables, the fixed ones and the
 * profile's (see {@link GitProfile}).
 *
 * <p>Programs are checked when the guard is made: each must be an existing, executable regular
 * file. Shells and launchers ({@link #LAUNCHERS}, by the real file's name, so a symlinked shell
 * counts) are refused unless the policy restricts their argument vector (argument rules, listed
 * subcommands, or {@code maxArgs: 0}); a renamed copy of a shell is recognized by its SHA-256. A
 * program under the git profile must suit it ({@link GitProfile#problems}). A SHA-256 pin is
 * re-checked before each run. Thread-safe.
 */
public final class PolicyCommandGuard implements CommandGuard {

    /** Programs that run other programs or code: refused unless their argv is restricted. */
    public static final Set<String> LAUNCHERS = Set.of(
            "sh",
            "bash",
            "dash",
            "zsh",
            "ksh",
            "mksh",
            "fish",
            "csh",
            "tcsh",
            "ash",
            "busybox",
            "env",
            "xargs",
            "nohup",
            "timeout",
            "nice",
            "sudo",
            "su",
            "doas",
            "npx",
            "npm",
            "node",
            "deno",
            "bun",
            "python",
            "python2",
            "python3",
            "perl",
            "ruby",
            "php",
            "lua",
            "osascript",
            "pwsh",
            "powershell",
            "cmd",
            "java",
            "sshpass",
            "script",
            "expect",
            "awk",
            "gawk",
            "mawk");

    /** The only PATH a child process sees. */
    public static final String SAFE_PATH = "/usr/local/bin:/usr/bin:/bin";

    private static final Pattern VERSIONED = Pattern.compile("(python|perl|ruby|php|lua)[0-9.]*");

    private final Map<String, Program> programs = new HashMap<>();
    private final Map<String, Pattern> patterns = new ConcurrentHashMap<>();
    private final PolicyFilesystemGuard files;
    private final PolicyEgressGuard egress;
    private final Optional<Path> defaultCwd;
    private final Map<String, String> serverEnv;

    /** A listed program as checked at start. */
    record Program(String name, ProgramPolicy policy, Path real, ProgramProfile profile) {}

    /**
     * A run the guard allows: exactly what to execute.
     *
     * @param profile the profile the run is under
     * @param subcommand the subcommand the tool chose, when the program lists subcommands
     */
    public record Authorized(
            String name,
            ProgramPolicy policy,
            List<String> command,
            Map<String, String> environment,
            Path cwd,
            ProgramProfile profile,
            Optional<String> subcommand) {}

    /**
     * A guard whose URL arguments are all refused (no egress rules).
     *
     * @see #PolicyCommandGuard(CommandPolicy, PolicyFilesystemGuard, PolicyEgressGuard, Optional, Map)
     */
    public PolicyCommandGuard(
            CommandPolicy policy,
            PolicyFilesystemGuard files,
            Optional<Path> defaultCwd,
            Map<String, String> serverEnv) {
        this(policy, files, new PolicyEgressGuard(EgressPolicy.none()), defaultCwd, serverEnv);
    }

    /**
     * @param files the filesystem guard for working directories and path arguments
     * @param egress the egress guard for URL arguments
     * @param defaultCwd where programs run when the caller names no directory
     * @param serverEnv this process's environment, the source of listed variables the caller does not set
     * @throws IllegalArgumentException naming a program that is missing, not executable, an
     *     unrestricted shell or launcher, or unfit for its profile
     */
    public PolicyCommandGuard(
            CommandPolicy policy,
            PolicyFilesystemGuard files,
            PolicyEgressGuard egress,
            Optional<Path> defaultCwd,
            Map<String, String> serverEnv) {
        this.files = files;
        this.egress = egress;
        this.defaultCwd = defaultCwd;
        this.serverEnv = Map.copyOf(serverEnv);
        policy.programs().forEach((name, program) -> programs.put(name, checkProgram(name, program)));
    }

    /** Whether {@code program}'s file name is that of a shell or launcher. */
    public static boolean isLauncher(Path program) {
        String name = program.getFileName().toString().toLowerCase(Locale.ROOT);
        return LAUNCHERS.contains(name) || VERSIONED.matcher(name).matches();
    }

    /**
     * The SHA-256 of every shell this machine lists in {@code /etc/shells}, plus {@code env} and
     * {@code xargs}, so a renamed copy of one is recognized whatever its name. Computed once.
     */
    static Set<String> shellDigests() {
        return ShellDigests.VALUES;
    }

    private static final class ShellDigests {
        static final Set<String> VALUES = compute();

        private static Set<String> compute() {
            List<Path> candidates = new ArrayList<>(List.of(Path.of("/usr/bin/env"), Path.of("/usr/bin/xargs")));
            try {
                for (String line : Files.readAllLines(Path.of("/etc/shells"))) {
                    if (line.startsWith("/")) {
                        candidates.add(Path.of(line.strip()));
                    }
                }
            } catch (IOException | RuntimeException e) {
                candidates.addAll(List.of(Path.of("/bin/sh"), Path.of("/bin/bash"), Path.of("/bin/dash")));
            }
            Set<String> digests = new java.util.HashSet<>();
            for (Path candidate : candidates) {
                if (Files.isRegularFile(candidate)) {
                    digests.add(sha256(candidate));
                }
            }
            digests.remove("unreadable");
            return Set.copyOf(digests);
        }
    }

    /** Whether the policy restricts {@code program}'s argument vector enough to allow a launcher. */
    public static boolean restricted(ProgramPolicy program) {
        return !program.args().isEmpty() || !program.allowedSubcommands().isEmpty() || program.maxArgs() == 0;
    }

    /** Whether any listed program runs under the git profile. */
    public boolean usesGitProfile() {
        return programs.values().stream().anyMatch(program -> program.profile() == ProgramProfile.GIT);
    }

    @Override
    public Decision check(String program, List<String> args, Map<String, String> env, String workingDirectory) {
        try {
            authorize(program, args, env, workingDirectory);
            return Decision.allow();
        } catch (PolicyViolationException e) {
            return e.decision();
        }
    }

    /**
     * Checks a run and says exactly what to execute.
     *
     * @param workingDirectory as the client sent it; {@code null} for the default
     * @throws PolicyViolationException with {@code COMMAND_NOT_ALLOWED}, {@code
     *     ARGUMENT_NOT_ALLOWED}, {@code ENV_NOT_ALLOWED}, {@code CWD_OUTSIDE_ROOTS} or {@code
     *     BINARY_CHANGED}
     */
    public Authorized authorize(String program, List<String> args, Map<String, String> env, String workingDirectory) {
        Program listed = program == null ? null : programs.get(program);
        if (listed == null) {
            throw deny(
                    ReasonCode.COMMAND_NOT_ALLOWED, "program '" + program + "' is not allowed by the server's policy");
        }
        ProgramPolicy policy = listed.policy();
        List<String> checked = checkArgs(program, policy, args);
        Optional<String> subcommand =
                policy.allowedSubcommands().isEmpty() ? Optional.empty() : Optional.of(checked.get(0));
        List<String> command = new ArrayList<>();
        command.add(listed.real().toString());
        command.addAll(policy.fixedArgs());
        Map<String, String> environment = new LinkedHashMap<>(checkEnv(program, policy, env));
        environment.putAll(policy.fixedEnv());
        if (listed.profile() == ProgramProfile.GIT) {
            command.addAll(GitProfile.LEADING_ARGS);
            command.add(checked.get(0));
            command.addAll(GitProfile.afterSubcommand(checked.get(0)));
            command.addAll(checked.subList(1, checked.size()));
            environment.putAll(GitProfile.ENV);
        } else {
            command.addAll(checked);
        }
        Path cwd = checkCwd(workingDirectory);
        if (policy.sha256().isPresent() && !policy.sha256().get().equals(sha256(listed.real()))) {
            throw deny(ReasonCode.BINARY_CHANGED, "program '" + program + "' no longer matches its SHA-256 pin");
        }
        return new Authorized(
                program, policy, List.copyOf(command), Map.copyOf(environment), cwd, listed.profile(), subcommand);
    }

    private List<String> checkArgs(String program, ProgramPolicy policy, List<String> args) {
        if (args.size() > policy.maxArgs()) {
            throw argument(program, "has " + args.size() + " arguments; at most " + policy.maxArgs() + " are allowed");
        }
        for (String arg : args) {
            if (arg == null || arg.indexOf('\0') >= 0) {
                throw argument(program, "has an argument with a NUL character");
            }
            if (arg.length() > policy.maxArgLength()) {
                throw argument(program, "has an argument longer than " + policy.maxArgLength() + " characters");
            }
        }
        List<String> checked = new ArrayList<>();
        int start = 0;
        List<String> flags = policy.flags();
        List<ArgRule> rules = policy.args();
        String where = "";
        if (!policy.allowedSubcommands().isEmpty()) {
            if (args.isEmpty() || !policy.allowedSubcommands().contains(args.get(0))) {
                throw argument(
                        program,
                        "needs one of the subcommands " + policy.allowedSubcommands()
                                + (args.isEmpty() ? "" : ", not '" + shorten(args.get(0)) + "'"));
            }
            checked.add(args.get(0));
            start = 1;
            SubcommandRule rule = policy.subcommandRules().get(args.get(0));
            if (rule != null) {
                where = " after '" + args.get(0) + "'";
                flags = rule.flags();
                rules = rule.args();
                if (args.size() - 1 > rule.maxArgs()) {
                    throw argument(
                            program,
                            "has " + (args.size() - 1) + " arguments" + where + "; at most " + rule.maxArgs()
                                    + " are allowed");
                }
            }
        }
        boolean positionalOnly = false;
        int position = 0;
        for (int i = start; i < args.size(); i++) {
            String arg = args.get(i);
            if (!positionalOnly && arg.equals("--")) {
                positionalOnly = true;
                checked.add(arg);
                continue;
            }
            if (!positionalOnly && arg.startsWith("-")) {
                if (!flags.contains(arg)) {
                    throw argument(program, "does not allow the option '" + shorten(arg) + "'" + where);
                }
                checked.add(arg);
                continue;
            }
            if (position >= rules.size()) {
                throw argument(
                        program,
                        "allows " + rules.size() + " positional arguments" + where + "; '" + shorten(arg)
                                + "' is one too many");
            }
            checked.add(checkPositional(program, rules.get(position), arg));
            position++;
        }
        return checked;
    }

    private String checkPositional(String program, ArgRule rule, String arg) {
        if (rule instanceof ArgRule.Literal literal && literal.value().equals(arg)) {
            return arg;
        }
        if (rule instanceof ArgRule.OneOf oneOf && oneOf.values().contains(arg)) {
            return arg;
        }
        if (rule instanceof ArgRule.Regex regex
                && patterns.computeIfAbsent(regex.regex(), Pattern::compile)
                        .matcher(arg)
                        .matches()) {
            return arg;
        }
        if (rule instanceof ArgRule.UrlArgument url) {
            return checkUrl(program, url, arg);
        }
        if (rule instanceof ArgRule.PathArgument path) {
            try {
                return files.resolve(arg, path.access()).toString();
            } catch (PolicyViolationException e) {
                throw argument(
                        program,
                        "has a path argument that is not allowed: "
                                + e.decision().detail());
            }
        }
        throw argument(program, "does not allow the argument '" + shorten(arg) + "' at this position");
    }

    /**
     * The URL {@code arg} as the egress guard reads it, when its rules allow the URL for the
     * rule's method; otherwise the guard's denial, reason code and all.
     */
    private String checkUrl(String program, ArgRule.UrlArgument rule, String arg) {
        Decision decision;
        EgressTarget target = null;
        try {
            target = EgressTarget.parse(arg);
            // a rule for any public host does not admit a program's URL: the program resolves the
            // name itself, so no address check would follow (localhost, metadata names)
            decision = egress.checkRequest(target, rule.method(), Optional.empty(), false);
        } catch (PolicyViolationException e) {
            decision = e.decision();
        }
        if (!decision.allowed()) {
            throw deny(
                    decision.reason(),
                    "program '" + program + "' has a URL argument that is not allowed: " + decision.detail());
        }
        return target.url();
    }

    private Map<String, String> checkEnv(String program, ProgramPolicy policy, Map<String, String> requested) {
        Map<String, String> environment = new LinkedHashMap<>();
        environment.put("PATH", SAFE_PATH);
        for (String name : requested.keySet()) {
            if (name == null || name.equals("PATH") || !policy.env().contains(name)) {
                throw deny(
                        ReasonCode.ENV_NOT_ALLOWED,
                        "program '" + program + "' may not be given the environment variable '"
                                + shorten(String.valueOf(name)) + "'");
            }
            String value = requested.get(name);
            if (value == null || value.indexOf('\0') >= 0) {
                throw deny(
                        ReasonCode.ENV_NOT_ALLOWED,
                        "environment variable '" + name + "' has no value or a NUL character");
            }
        }
        for (String name : policy.env()) {
            if (name.equals("PATH")) {
                continue;
            }
            String value = requested.containsKey(name) ? requested.get(name) : serverEnv.get(name);
            if (value != null) {
                environment.put(name, value);
            }
        }
        return Map.copyOf(environment);
    }

    private Path checkCwd(String requested) {
        if (requested == null) {
            return defaultCwd.orElseThrow(() -> deny(
                    ReasonCode.CWD_OUTSIDE_ROOTS,
                    "no working directory was given and the policy has no filesystem root to run in"));
        }
        Path cwd;
        try {
            cwd = files.resolve(requested, FileAccess.READ_ONLY);
        } catch (PolicyViolationException e) {
            throw deny(
                    ReasonCode.CWD_OUTSIDE_ROOTS,
                    "working directory '" + shorten(requested) + "' is not allowed: "
                            + e.decision().detail());
        }
        if (!Files.isDirectory(cwd)) {
            throw deny(
                    ReasonCode.CWD_OUTSIDE_ROOTS, "working directory '" + shorten(requested) + "' is not a directory");
        }
        return cwd;
    }

    private static Program checkProgram(String name, ProgramPolicy program) {
        Path path = program.path();
        if (!Files.isRegularFile(path) || !Files.isExecutable(path)) {
            throw new IllegalArgumentException("program '" + name + "' (" + path
                    + ") does not exist or is not an executable file; fix commands.programs." + name + ".path");
        }
        Path real;
        try {
            real = path.toRealPath();
        } catch (IOException e) {
            throw new IllegalArgumentException("program '" + name + "' (" + path + ") cannot be resolved", e);
        }
        boolean launcher =
                isLauncher(path) || isLauncher(real) || shellDigests().contains(sha256(real));
        if (launcher && !restricted(program)) {
            throw new IllegalArgumentException(
                    "program '" + name + "' (" + path + (real.equals(path) ? "" : " -> " + real)
                            + ") is a shell or launcher; list it only with argument rules, subcommands or maxArgs: 0");
        }
        ProgramProfile profile = program.profileFor(real);
        List<PolicyProblem> unfit = profile == ProgramProfile.GIT ? GitProfile.problems(program) : List.of();
        if (!unfit.isEmpty()) {
            throw new IllegalArgumentException("program '" + name + "' (" + path + ") does not suit the git profile: "
                    + unfit.stream()
                            .map(problem ->
                                    problem.under("commands.programs." + name).toString())
                            .collect(Collectors.joining("; ")));
        }
        return new Program(name, program, real, profile);
    }

    /** Lower-case hex SHA-256 of {@code file}; an unreadable file never matches a pin. */
    static String sha256(Path file) {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(OutputStream.nullOutputStream());
            return HexFormat.of()
                    .formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (IOException e) {
            return "unreadable";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    private static PolicyViolationException argument(String program, String why) {
        return deny(ReasonCode.ARGUMENT_NOT_ALLOWED, "program '" + program + "' " + why);
    }

    private static PolicyViolationException deny(ReasonCode reason, String detail) {
        return new PolicyViolationException(Decision.deny(reason, detail));
    }

    /** {@code text} cut to 80 characters with control characters shown as '?', for messages. */
    private static String shorten(String text) {
        String cut = text.length() > 80 ? text.substring(0, 80) + "..." : text;
        return cut.codePoints()
                .map(c -> Character.isISOControl(c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
                .toString();
    }
}
