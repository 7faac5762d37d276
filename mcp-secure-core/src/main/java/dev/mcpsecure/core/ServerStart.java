package dev.mcpsecure.core;

import dev.mcpsecure.api.PreflightPolicy;
import dev.mcpsecure.api.SecurityPolicy;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * What every launcher does before it picks a transport: load the policy file (every problem to
 * {@code err}), build a {@link SecureMcpServer.Builder} with the app's tools, and run the
 * {@link Preflight} check (its table to {@code err}, its audit event to the server's sink). The
 * stdio launcher ({@link SecureStdioServer}) and the HTTP one ({@code SecureHttpLauncher}) share it.
 *
 * @param policy the loaded policy, or {@code null} when the start failed
 * @param builder the builder with the app's tools, or {@code null} when the start failed
 * @param exitCode 0 when the server may start; otherwise the process's exit code
 */
public record ServerStart(SecurityPolicy policy, SecureMcpServer.Builder builder, int exitCode) {

    /** Preflight failed in enforce mode. */
    public static final int EXIT_PREFLIGHT_FAILED = 78;

    /** The tools drifted from the lockfile (enforce mode), or the lockfile cannot be trusted. */
    public static final int EXIT_PINNING_FAILED = 65;

    /** The audit file cannot be opened. */
    public static final int EXIT_AUDIT_UNAVAILABLE = 73;

    /** The environment variable naming the audit file; it overrides the policy's {@code audit.file}. */
    public static final String AUDIT_FILE_ENV = "MCP_SECURE_AUDIT_FILE";

    /** The app's code that adds its tools failed, such as on a filesystem root that does not exist. */
    public static final int EXIT_TOOLS_FAILED = 70;

    /**
     * Runs the app's {@code tools} on {@code builder}; says on {@code err} why it failed, if it
     * failed with an unchecked exception (its message names the problem, such as a missing root).
     */
    static boolean addTools(SecureMcpServer.Builder builder, Consumer<SecureMcpServer.Builder> tools, PrintStream err) {
        try {
            tools.accept(builder);
            return true;
        } catch (RuntimeException e) {
            err.println("the server's tools could not be added: " + e.getMessage());
            err.flush();
            return false;
        }
    }

    /**
     * Says on {@code err} why pinning refused the start, one problem a line.
     *
     * @return {@link #EXIT_PINNING_FAILED}
     */
    public static int refused(PinningException e, PrintStream err) {
        err.println(
                "the server did not start: its tools do not match the lockfile, or the lockfile cannot be trusted:");
        e.problems().forEach(problem -> err.println("  - " + problem));
        err.flush();
        return EXIT_PINNING_FAILED;
    }

    private static Optional<Path> auditFile(Path policyFile, Map<String, String> env, SecurityPolicy policy) {
        String fromEnv = env.get(AUDIT_FILE_ENV);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return Optional.of(Path.of(fromEnv));
        }
        Path folder = policyFile.toAbsolutePath().getParent();
        return folder == null
                ? policy.audit().file()
                : policy.audit().resolvedAgainst(folder).file();
    }

    /** Whether the server may start. */
    public boolean ready() {
        return exitCode == 0;
    }

    /**
     * Loads {@code policyFile}, adds the app's {@code tools}, runs the preflight check on
     * {@code runtime}; says on {@code err} why the server did not start, if it did not.
     */
    public static ServerStart prepare(
            Path policyFile, Preflight.Runtime runtime, PrintStream err, Consumer<SecureMcpServer.Builder> tools) {
        return prepare(policyFile, System.getenv(), runtime, err, tools);
    }

    /**
     * As {@link #prepare(Path, Preflight.Runtime, PrintStream, Consumer)}, reading {@value
     * #AUDIT_FILE_ENV} from {@code env}. Audit records go to that file, else to the policy's
     * {@code audit.file} (relative to the policy file's folder), else to the SLF4J logger {@code
     * dev.mcpsecure.audit}; a file is one nothing else writes to.
     */
    public static ServerStart prepare(
            Path policyFile,
            Map<String, String> env,
            Preflight.Runtime runtime,
            PrintStream err,
            Consumer<SecureMcpServer.Builder> tools) {
        PolicyLoader.CommandLineLoad loaded = PolicyLoader.loadForCommandLine(policyFile, err);
        if (!loaded.loaded()) {
            err.println("the server did not start");
            return new ServerStart(null, null, loaded.exitCode());
        }
        SecurityPolicy policy = loaded.policy();
        SecureMcpServer.Builder builder = SecureMcpServer.builder(policy);
        Optional<Path> auditFile = auditFile(policyFile, env, policy);
        if (auditFile.isPresent()) {
            try {
                builder.auditSink(JsonLinesAuditSink.append(auditFile.get()));
            } catch (IOException e) {
                err.println("the server did not start: " + e.getMessage() + "; fix the path in audit.file or "
                        + AUDIT_FILE_ENV);
                return new ServerStart(policy, null, EXIT_AUDIT_UNAVAILABLE);
            }
        }
        if (!addTools(builder, tools, err)) {
            return new ServerStart(policy, null, EXIT_TOOLS_FAILED);
        }
        Preflight.Report report = Preflight.run(policy, runtime);
        err.print(report.table());
        err.flush();
        boolean enforced = policy.preflight().mode() == PreflightPolicy.Mode.ENFORCE;
        builder.gate().record(report.auditEvent(enforced));
        if (report.failed() && enforced) {
            err.println("the server did not start: preflight failed and the policy's preflight mode is enforce");
            return new ServerStart(policy, builder, EXIT_PREFLIGHT_FAILED);
        }
        return new ServerStart(policy, builder, 0);
    }
}
