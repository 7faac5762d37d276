package dev.mcpsecure.core;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.Cidr;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.EgressRule;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.TokenAudience;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The server's check of its own runtime against the least-privilege checklist: not root,
 * no-new-privileges, no capabilities, seccomp on, read-only root filesystem, no reachable Docker
 * socket, no SSH agent, no cloud CLI credentials, no readable home directory, no secrets in the
 * environment, no public HTTP bind, short token lifetimes, no wildcard egress. Each check is PASS,
 * WARN or FAIL with a one-line fix; checks that need Linux's {@code /proc} say SKIPPED elsewhere,
 * never PASS. Reads only; never prints a secret value.
 */
public final class Preflight {

    /** Token lifetimes above this are reported. */
    public static final Duration LONG_TTL = Duration.ofMinutes(15);

    private static final Pattern SECRET_NAME =
            Pattern.compile("(?i).*(TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL).*|.*_KEY");
    private static final long CAP_SYS_ADMIN = 1L << 21;

    private Preflight() {}

    /** A check's outcome. */
    public enum Status {
        PASS,
        WARN,
        FAIL,
        SKIPPED
    }

    /**
     * One item of the checklist.
     *
     * @param id a stable name, such as {@code non_root}
     * @param status the outcome
     * @param finding what was found
     * @param fix how to make it pass; empty when it passes
     */
    public record Check(String id, Status status, String finding, String fix) {}

    /** Every check, in checklist order. */
    public record Report(String server, List<Check> checks) {

        /** Copies the list. */
        public Report {
            checks = List.copyOf(checks);
        }

        /** Whether any check failed. */
        public boolean failed() {
            return checks.stream().anyMatch(check -> check.status() == Status.FAIL);
        }

        /** The check with {@code id}. */
        public Optional<Check> check(String id) {
            return checks.stream().filter(check -> check.id().equals(id)).findFirst();
        }

        /** A table for people, one check a line; for stderr (stdout is the stdio transport). */
        public String table() {
            StringBuilder out = new StringBuilder("mcp-secure preflight for ")
                    .append(server)
                    .append(": ");
            for (Status status : Status.values()) {
                long count = checks.stream()
                        .filter(check -> check.status() == status)
                        .count();
                out.append(count).append(' ').append(status).append(status == Status.SKIPPED ? "\n" : ", ");
            }
            for (Check check : checks) {
                out.append(String.format("  %-7s %-19s %s", check.status(), check.id(), check.finding()));
                if (!check.fix().isEmpty()) {
                    out.append(" -- fix: ").append(check.fix());
                }
                out.append('\n');
            }
            return out.toString();
        }

        /**
         * The audit record of this report ({@code start}): {@code PREFLIGHT_FAILED} when anything
         * failed, a denial when it stops the start ({@code enforced}), else a finding.
         */
        public AuditEvent auditEvent(boolean enforced) {
            String summary = "preflight: " + names(Status.FAIL) + " failed; " + names(Status.WARN) + " warned";
            return AuditEvent.start(
                    server,
                    new Decision(!failed(), failed() ? ReasonCode.PREFLIGHT_FAILED : ReasonCode.ALLOWED, summary),
                    enforced);
        }

        private String names(Status status) {
            List<String> ids = checks.stream()
                    .filter(check -> check.status() == status)
                    .map(Check::id)
                    .toList();
            return ids.isEmpty() ? "none" : String.join(", ", ids);
        }
    }

    /**
     * What the checks read; {@link #current()} is this process.
     *
     * @param procSelf the process's {@code /proc/self}
     * @param env the environment
     * @param home the home directory
     * @param dockerSockets where a Docker socket would be
     */
    public record Runtime(Path procSelf, Map<String, String> env, Path home, List<Path> dockerSockets) {

        /** Copies the collections. */
        public Runtime {
            env = Map.copyOf(env);
            dockerSockets = List.copyOf(dockerSockets);
        }

        /** This process's runtime. */
        public static Runtime current() {
            return new Runtime(
                    Path.of("/proc/self"),
                    System.getenv(),
                    Path.of(System.getProperty("user.home")),
                    List.of(Path.of("/var/run/docker.sock"), Path.of("/run/docker.sock")));
        }
    }

    /** Runs every check of {@code runtime} for a server enforcing {@code policy}. */
    public static Report run(SecurityPolicy policy, Runtime runtime) {
        List<Check> checks = new ArrayList<>();
        Optional<String> status = read(runtime.procSelf().resolve("status"));
        if (status.isPresent()) {
            checks.add(nonRoot(field(status.get(), "Uid")));
            checks.add(noNewPrivileges(field(status.get(), "NoNewPrivs")));
            checks.add(capabilities(field(status.get(), "CapEff")));
            checks.add(seccomp(field(status.get(), "Seccomp")));
        } else {
            String why = "no " + runtime.procSelf().resolve("status") + " (not Linux)";
            for (String id : List.of("non_root", "no_new_privileges", "capabilities", "seccomp")) {
                checks.add(new Check(id, Status.SKIPPED, why, ""));
            }
        }
        checks.add(readOnlyRoot(read(runtime.procSelf().resolve("mountinfo")), runtime.procSelf()));
        checks.add(dockerSocket(runtime));
        checks.add(sshAgent(runtime.env()));
        checks.add(cloudCredentials(runtime.home()));
        checks.add(homeDirectory(runtime.home()));
        checks.add(secretsInEnvironment(runtime.env()));
        checks.add(publicBind(policy));
        checks.add(tokenLifetimes(policy));
        checks.add(wildcardEgress(policy));
        return new Report(policy.server().name(), checks);
    }

    private static Check nonRoot(Optional<String> uids) {
        if (uids.isEmpty()) {
            return new Check("non_root", Status.SKIPPED, "no Uid line in /proc/self/status", "");
        }
        String effective = uids.get().split("\\s+")[1];
        return effective.equals("0")
                ? new Check(
                        "non_root",
                        Status.FAIL,
                        "runs as root (uid 0)",
                        "run as a non-root user: USER 65532 in the Dockerfile, or docker run --user 65532:65532")
                : pass("non_root", "runs as uid " + effective);
    }

    private static Check noNewPrivileges(Optional<String> value) {
        if (value.isEmpty()) {
            return new Check("no_new_privileges", Status.SKIPPED, "no NoNewPrivs line in /proc/self/status", "");
        }
        return either(
                "no_new_privileges",
                value.get().equals("1"),
                "no_new_privs is set",
                Status.WARN,
                "the process may gain privileges (setuid binaries)",
                "docker run --security-opt no-new-privileges; Kubernetes: allowPrivilegeEscalation: false");
    }

    private static Check capabilities(Optional<String> value) {
        if (value.isEmpty()) {
            return new Check("capabilities", Status.SKIPPED, "no CapEff line in /proc/self/status", "");
        }
        long mask = Long.parseUnsignedLong(value.get(), 16);
        if (mask == 0) {
            return pass("capabilities", "no effective capabilities");
        }
        String fix = "docker run --cap-drop ALL; Kubernetes: capabilities: {drop: [ALL]}";
        return (mask & CAP_SYS_ADMIN) != 0
                ? new Check(
                        "capabilities",
                        Status.FAIL,
                        Long.bitCount(mask) + " effective capabilities, CAP_SYS_ADMIN among them",
                        fix)
                : new Check("capabilities", Status.WARN, Long.bitCount(mask) + " effective capabilities", fix);
    }

    private static Check seccomp(Optional<String> value) {
        if (value.isEmpty()) {
            return new Check("seccomp", Status.SKIPPED, "no Seccomp line in /proc/self/status", "");
        }
        return value.get().equals("0")
                ? new Check(
                        "seccomp",
                        Status.WARN,
                        "no seccomp filter",
                        "keep the runtime's default seccomp profile (never seccomp=unconfined); Kubernetes: seccompProfile: RuntimeDefault")
                : pass("seccomp", "seccomp mode " + value.get());
    }

    private static Check readOnlyRoot(Optional<String> mountinfo, Path procSelf) {
        if (mountinfo.isEmpty()) {
            return new Check(
                    "read_only_root", Status.SKIPPED, "no " + procSelf.resolve("mountinfo") + " (not Linux)", "");
        }
        String options = null;
        for (String line : mountinfo.get().split("\n")) {
            String[] fields = line.split(" ");
            if (fields.length > 5 && fields[4].equals("/")) {
                options = fields[5];
            }
        }
        if (options == null) {
            return new Check("read_only_root", Status.SKIPPED, "no mount of / in mountinfo", "");
        }
        return either(
                "read_only_root",
                List.of(options.split(",")).contains("ro"),
                "the root filesystem is read-only",
                Status.WARN,
                "the root filesystem is writable",
                "docker run --read-only --tmpfs /tmp; Kubernetes: readOnlyRootFilesystem: true");
    }

    private static Check dockerSocket(Runtime runtime) {
        List<String> found = new ArrayList<>();
        for (Path socket : runtime.dockerSockets()) {
            if (Files.exists(socket)) {
                found.add(socket.toString());
            }
        }
        String dockerHost = runtime.env().getOrDefault("DOCKER_HOST", "");
        if (!dockerHost.isBlank()) {
            found.add("DOCKER_HOST");
        }
        return either(
                "docker_socket",
                found.isEmpty(),
                "no Docker socket reachable",
                Status.FAIL,
                "a Docker daemon is reachable (" + String.join(", ", found) + "): that is root on the host",
                "do not mount the Docker socket or set DOCKER_HOST");
    }

    private static Check sshAgent(Map<String, String> env) {
        return either(
                "ssh_agent",
                env.getOrDefault("SSH_AUTH_SOCK", "").isBlank(),
                "no SSH agent",
                Status.FAIL,
                "an SSH agent is reachable (SSH_AUTH_SOCK)",
                "do not forward an SSH agent into the server");
    }

    private static Check cloudCredentials(Path home) {
        List<String> found = new ArrayList<>();
        for (String relative : List.of(".aws", ".config/gcloud", ".azure", ".kube/config")) {
            Path path = home.resolve(relative);
            if (Files.exists(path) && Files.isReadable(path)) {
                found.add("~/" + relative);
            }
        }
        return either(
                "cloud_credentials",
                found.isEmpty(),
                "no cloud CLI credentials readable",
                Status.FAIL,
                "cloud CLI credentials are readable: " + String.join(", ", found),
                "do not mount cloud CLI profiles; give the server short-lived tokens through the vault");
    }

    private static Check homeDirectory(Path home) {
        boolean readable = Files.isDirectory(home) && Files.isReadable(home);
        return readable
                ? new Check(
                        "home_directory",
                        Status.WARN,
                        "the home directory " + home + " is readable",
                        "run with HOME on an empty tmpfs, or without a home directory")
                : pass("home_directory", "no readable home directory");
    }

    private static Check secretsInEnvironment(Map<String, String> env) {
        TreeSet<String> names = new TreeSet<>();
        env.forEach((name, value) -> {
            if (value != null && !value.isEmpty() && SECRET_NAME.matcher(name).matches()) {
                names.add(name);
            }
        });
        return either(
                "secrets_in_env",
                names.isEmpty(),
                "no secret-looking variables",
                Status.FAIL,
                "the environment holds secret-looking variables: " + String.join(", ", names),
                "fetch secrets on demand (SecretSource, from the vault); do not pass them in the environment");
    }

    private static Check publicBind(SecurityPolicy policy) {
        String bind = policy.transport().bind();
        return either(
                "public_bind",
                Cidr.isLoopbackHost(bind),
                "HTTP transports bind " + bind,
                Status.WARN,
                "HTTP transports may bind " + bind + " (beyond this machine; bearer tokens required)",
                "bind 127.0.0.1 and put a reverse proxy in front unless remote clients must reach it");
    }

    private static Check tokenLifetimes(SecurityPolicy policy) {
        List<String> long_ = new ArrayList<>();
        if (policy.tokens().maxTtl().compareTo(LONG_TTL) > 0) {
            long_.add("maxTtl " + policy.tokens().maxTtl().toMinutes() + "m");
        }
        for (Map.Entry<String, TokenAudience> audience :
                policy.tokens().audiences().entrySet()) {
            if (audience.getValue().ttl().compareTo(LONG_TTL) > 0) {
                long_.add(audience.getKey() + " " + audience.getValue().ttl().toMinutes() + "m");
            }
        }
        return either(
                "token_ttl",
                long_.isEmpty(),
                "token lifetimes are " + LONG_TTL.toMinutes() + " minutes or less",
                Status.WARN,
                "long-lived tokens: " + String.join(", ", long_),
                "keep tokens.maxTtl at 15m or less (5m is the default)");
    }

    private static Check wildcardEgress(SecurityPolicy policy) {
        List<String> wildcards = policy.egress().rules().stream()
                .filter(EgressRule::wildcard)
                .map(EgressRule::host)
                .collect(Collectors.toList());
        return either(
                "wildcard_egress",
                wildcards.isEmpty(),
                "no wildcard egress rules",
                Status.WARN,
                "wildcard egress rules: " + String.join(", ", wildcards),
                "list each host the server needs");
    }

    /** PASS with {@code passing} when {@code ok}, else {@code failing} with its finding and fix. */
    private static Check either(String id, boolean ok, String passing, Status failing, String finding, String fix) {
        return ok ? pass(id, passing) : new Check(id, failing, finding, fix);
    }

    private static Check pass(String id, String finding) {
        return new Check(id, Status.PASS, finding, "");
    }

    private static Optional<String> read(Path file) {
        try {
            return Optional.of(Files.readString(file));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The value of {@code name:} in a /proc status file. */
    private static Optional<String> field(String status, String name) {
        for (String line : status.split("\n")) {
            if (line.startsWith(name + ":")) {
                return Optional.of(line.substring(name.length() + 1).strip().toLowerCase(Locale.ROOT));
            }
        }
        return Optional.empty();
    }
}
