package dev.mcpsecure.vault;

import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.core.PolicyLoader;
import dev.mcpsecure.core.SecureStdioServer;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code vault} command: what a vault must hold for a server's policy, and nothing more.
 * Servers built on the samples' launchers take it as their first argument, beside {@code lock}
 * ({@code <server> vault plan --policy p.yaml}); the core launchers cannot, since core does not
 * depend on this module. It also runs on its own: {@code java -cp ... dev.mcpsecure.vault.VaultCommand
 * plan --policy p.yaml}.
 *
 * <pre>
 * vault plan  --policy &lt;file&gt;... [login options]            the plan: ACL HCL, role JSON, the API requests
 * vault apply --policy &lt;file&gt;... --out &lt;dir&gt; [--replace] [--dry-run] [--wrap-ttl 10m] [login options]
 * vault check --policy &lt;file&gt;... [login options]            every grant beyond the plan; exit 65 if any
 *
 * login options: [--auth approle|jwt|kubernetes] [--auth-mount &lt;mount&gt;] [--bound-subject &lt;sub&gt;]
 *     [--bound-audience &lt;aud&gt;] [--service-account &lt;namespace&gt;/&lt;name&gt;] [--login-ttl 15m]
 *     [--transit-key &lt;key&gt; [--transit-mount transit]]
 * </pre>
 *
 * <p>{@code --policy} may be given several times: the plans are made together and refused if two
 * servers' names collide ({@link VaultPlanner}); without it, {@code MCP_SECURE_POLICY} names the
 * policy. {@code apply} and {@code check} talk to {@code VAULT_ADDR} (or {@code BAO_ADDR}) with the
 * operator token in {@code VAULT_TOKEN} (or {@code BAO_TOKEN}, or the file {@code --token-file}),
 * which is never printed or stored. {@code apply} prints each role_id and writes the AppRole files
 * to {@code <out>/<role>/role_id} and {@code <out>/<role>/secret_id} (a response-wrapped
 * secret_id, which is never printed); {@code --dry-run} prints the API requests it would send and
 * sends none. Results go to stdout, problems to stderr.
 */
public final class VaultCommand {

    /** The word that selects this command as the first argument. */
    public static final String NAME = "vault";
    /** Done; for {@code check}: the vault holds exactly the plan. */
    public static final int EXIT_OK = 0;
    /** The arguments are wrong. */
    public static final int EXIT_USAGE = 64;
    /** A plan refused (names collide, an ACL would widen), or {@code check} found differences. */
    public static final int EXIT_DATA = 65;
    /** The vault could not be reached, or refused a request. */
    public static final int EXIT_UNAVAILABLE = 69;
    /** A file could not be read or written. */
    public static final int EXIT_IO = 74;

    private static final Pattern DURATION = Pattern.compile("([0-9]{1,6})(s|m|h)");
    private static final String USAGE = "usage: <server> vault plan|apply|check --policy <policy.yaml> [--policy ...]"
            + " [--auth approle|jwt|kubernetes] [--auth-mount <mount>] [--bound-subject <sub>]"
            + " [--bound-audience <aud>] [--service-account <namespace>/<name>] [--login-ttl 15m]"
            + " [--transit-key <key>] [--transit-mount transit]"
            + "\n       apply also: --out <dir> [--replace] [--dry-run] [--wrap-ttl 10m] [--token-file <file>]"
            + "\n       check also: [--token-file <file>]";

    private VaultCommand() {}

    /** Whether {@code args} ask for this command. */
    public static boolean requested(String[] args) {
        return args.length > 0 && NAME.equals(args[0]);
    }

    /** Runs the command on this process's environment and streams, and exits with its code. */
    public static void main(String[] args) {
        String[] command = requested(args) ? args : prepend(args);
        System.exit(run(command, System.getenv(), System.out, System.err));
    }

    /**
     * Runs the command.
     *
     * @param args the arguments, starting with {@value #NAME}
     * @param env where the vault's address, the operator token and {@code MCP_SECURE_POLICY} are read
     * @return the exit code
     */
    public static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        Arguments parsed;
        try {
            parsed = Arguments.parse(Arrays.asList(args).subList(Math.min(1, args.length), args.length), env);
        } catch (IllegalArgumentException | IllegalStateException e) {
            err.println(e.getMessage() + "\n" + USAGE);
            return EXIT_USAGE;
        }
        List<SecurityPolicy> policies = new ArrayList<>();
        for (String file : parsed.policies()) {
            PolicyLoader.CommandLineLoad loaded = PolicyLoader.loadForCommandLine(Path.of(file), err);
            if (!loaded.loaded()) {
                return loaded.exitCode();
            }
            policies.add(loaded.policy());
        }
        List<VaultPlan> plans;
        try {
            plans = parsed.planner().plan(policies);
        } catch (IllegalArgumentException e) {
            err.println("vault plan refused: " + e.getMessage());
            return EXIT_DATA;
        }
        if (parsed.action().equals("plan") || parsed.dryRun()) {
            for (VaultPlan plan : plans) {
                out.print(
                        parsed.action().equals("plan")
                                ? plan.review(parsed.wrapTtl())
                                : requests(plan, parsed.wrapTtl()));
            }
            return EXIT_OK;
        }
        Optional<VaultSettings> settings;
        String token;
        try {
            settings = VaultSettings.fromEnvironment(env);
            token = operatorToken(parsed, env);
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            return EXIT_USAGE;
        } catch (UncheckedIOException e) {
            err.println(e.getMessage());
            return EXIT_IO;
        }
        if (settings.isEmpty() || token == null) {
            err.println("set VAULT_ADDR (or BAO_ADDR) and the operator token in VAULT_TOKEN (or BAO_TOKEN, or"
                    + " --token-file)\n" + USAGE);
            return EXIT_USAGE;
        }
        try {
            return parsed.action().equals("apply")
                    ? apply(plans, VaultApply.to(settings.get(), token), parsed, out)
                    : check(plans, VaultCheck.of(settings.get(), token), out);
        } catch (VaultApply.RefusedException e) {
            err.println(e.getMessage());
            return EXIT_DATA;
        } catch (PolicyViolationException e) {
            err.println(e.getMessage());
            return EXIT_UNAVAILABLE;
        } catch (UncheckedIOException e) {
            err.println(e.getMessage() + " (" + e.getCause().getClass().getSimpleName() + ")");
            return EXIT_IO;
        }
    }

    private static int apply(List<VaultPlan> plans, VaultApply apply, Arguments parsed, PrintStream out) {
        for (VaultPlan plan : plans) {
            List<VaultApply.Issued> issued = apply.apply(plan, parsed.out(), parsed.replace(), parsed.wrapTtl());
            out.println("server " + plan.server() + ": applied (vault name " + plan.name() + ")");
            for (VaultApply.Issued role : issued) {
                out.println("  role " + role.role() + ": role_id " + role.roleId());
                out.println("    wrote " + role.roleIdFile() + " and " + role.secretIdFile()
                        + " (a response-wrapped secret_id: unwrap once within "
                        + parsed.wrapTtl().toSeconds() + " s)");
            }
        }
        return EXIT_OK;
    }

    private static int check(List<VaultPlan> plans, VaultCheck check, PrintStream out) {
        int total = 0;
        for (VaultPlan plan : plans) {
            List<VaultCheck.Finding> findings = check.check(plan);
            total += findings.size();
            out.println("server " + plan.server() + ": "
                    + (findings.isEmpty() ? "the vault holds exactly the plan" : findings.size() + " finding(s)"));
            findings.forEach(finding -> out.println("  " + finding));
        }
        return total == 0 ? EXIT_OK : EXIT_DATA;
    }

    private static String requests(VaultPlan plan, Duration wrapTtl) {
        StringBuilder text = new StringBuilder("# vault apply --dry-run for server " + plan.server()
                + ": the requests, in order (X-Vault-Token: the operator's token)\n");
        plan.requests(wrapTtl).forEach(request -> text.append('\n').append(request));
        return text.toString();
    }

    private static String operatorToken(Arguments parsed, Map<String, String> env) {
        if (parsed.tokenFile() != null) {
            try {
                return Files.readString(parsed.tokenFile(), StandardCharsets.UTF_8)
                        .strip();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the token file " + parsed.tokenFile(), e);
            }
        }
        for (String variable : List.of("VAULT_TOKEN", "BAO_TOKEN")) {
            String value = env.get(variable);
            if (value != null && !value.isBlank()) {
                return value.strip();
            }
        }
        return null;
    }

    private static String[] prepend(String[] args) {
        String[] command = new String[args.length + 1];
        command[0] = NAME;
        System.arraycopy(args, 0, command, 1, args.length);
        return command;
    }

    static Duration duration(String option, String text) {
        Matcher matcher = DURATION.matcher(text == null ? "" : text);
        if (!matcher.matches()) {
            throw new IllegalArgumentException(option + " takes a duration such as 90s, 15m or 1h, but was " + text);
        }
        long amount = Long.parseLong(matcher.group(1));
        return switch (matcher.group(2)) {
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            default -> Duration.ofHours(amount);
        };
    }

    /** The parsed command line. */
    private record Arguments(
            String action,
            List<String> policies,
            VaultPlanner planner,
            Path out,
            boolean replace,
            boolean dryRun,
            Duration wrapTtl,
            Path tokenFile) {

        static Arguments parse(List<String> args, Map<String, String> env) {
            if (args.isEmpty() || !List.of("plan", "apply", "check").contains(args.get(0))) {
                throw new IllegalArgumentException("say what to do: vault plan, vault apply or vault check");
            }
            String action = args.get(0);
            List<String> policies = new ArrayList<>();
            Map<String, String> options = new java.util.HashMap<>();
            boolean replace = false;
            boolean dryRun = false;
            List<String> valued = List.of(
                    "--out",
                    "--wrap-ttl",
                    "--token-file",
                    "--auth",
                    "--auth-mount",
                    "--bound-subject",
                    "--bound-audience",
                    "--service-account",
                    "--login-ttl",
                    "--transit-key",
                    "--transit-mount");
            for (int i = 1; i < args.size(); i++) {
                String arg = args.get(i);
                String value = i + 1 < args.size() ? args.get(i + 1) : null;
                if (arg.equals("--policy") && value != null) {
                    policies.add(value);
                    i++;
                } else if (valued.contains(arg) && value != null) {
                    if (options.put(arg, value) != null) {
                        throw new IllegalArgumentException(arg + " is given twice");
                    }
                    i++;
                } else if (arg.equals("--replace") && action.equals("apply")) {
                    replace = true;
                } else if (arg.equals("--dry-run") && action.equals("apply")) {
                    dryRun = true;
                } else {
                    throw new IllegalArgumentException("unknown argument '" + arg + "' for vault " + action);
                }
            }
            if (policies.isEmpty()) {
                String fromEnv = env.get(SecureStdioServer.POLICY_ENV);
                if (fromEnv == null || fromEnv.isBlank()) {
                    throw new IllegalArgumentException("no policy file");
                }
                policies.add(fromEnv);
            }
            if (!action.equals("apply") && (options.containsKey("--out") || options.containsKey("--wrap-ttl"))) {
                throw new IllegalArgumentException("--out and --wrap-ttl are for vault apply");
            }
            if (action.equals("plan") && options.containsKey("--token-file")) {
                throw new IllegalArgumentException("vault plan talks to no vault, so it takes no --token-file");
            }
            if (action.equals("apply") && !dryRun && !options.containsKey("--out")) {
                throw new IllegalArgumentException(
                        "vault apply needs --out <dir> for the AppRole files (role_id, wrapped secret_id)");
            }
            Duration wrapTtl = options.containsKey("--wrap-ttl")
                    ? duration("--wrap-ttl", options.get("--wrap-ttl"))
                    : VaultPlan.DEFAULT_WRAP_TTL;
            return new Arguments(
                    action,
                    List.copyOf(policies),
                    planner(options),
                    options.containsKey("--out") ? Path.of(options.get("--out")) : null,
                    replace,
                    dryRun,
                    wrapTtl,
                    options.containsKey("--token-file") ? Path.of(options.get("--token-file")) : null);
        }

        private static VaultPlanner planner(Map<String, String> options) {
            VaultPlanner.Builder planner = VaultPlanner.builder();
            String auth = options.getOrDefault("--auth", "approle");
            switch (auth) {
                case "approle" -> planner.appRole(options.getOrDefault("--auth-mount", "approle"));
                case "jwt" ->
                    planner.jwt(
                            options.getOrDefault("--auth-mount", "jwt"),
                            required(options, "--bound-subject", "jwt"),
                            required(options, "--bound-audience", "jwt"));
                case "kubernetes" -> {
                    String account = required(options, "--service-account", "kubernetes");
                    int slash = account.indexOf('/');
                    if (slash < 0) {
                        throw new IllegalArgumentException(
                                "--service-account is <namespace>/<name>, such as tools/weather, but was " + account);
                    }
                    planner.kubernetes(
                            options.getOrDefault("--auth-mount", "kubernetes"),
                            account.substring(0, slash),
                            account.substring(slash + 1));
                }
                default -> throw new IllegalArgumentException("--auth is approle, jwt or kubernetes, but was " + auth);
            }
            if (!auth.equals("jwt")
                    && (options.containsKey("--bound-subject") || options.containsKey("--bound-audience"))) {
                throw new IllegalArgumentException("--bound-subject and --bound-audience are for --auth jwt");
            }
            if (!auth.equals("kubernetes") && options.containsKey("--service-account")) {
                throw new IllegalArgumentException("--service-account is for --auth kubernetes");
            }
            if (options.containsKey("--login-ttl")) {
                planner.loginTtl(duration("--login-ttl", options.get("--login-ttl")));
            }
            if (options.containsKey("--transit-key")) {
                planner.transitKey(options.getOrDefault("--transit-mount", "transit"), options.get("--transit-key"));
            } else if (options.containsKey("--transit-mount")) {
                throw new IllegalArgumentException("--transit-mount goes with --transit-key");
            }
            return planner.build();
        }

        private static String required(Map<String, String> options, String option, String auth) {
            String value = options.get(option);
            if (value == null) {
                throw new IllegalArgumentException("--auth " + auth + " needs " + option);
            }
            return value;
        }
    }
}
