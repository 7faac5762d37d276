package dev.mcpsecure.core;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.core.internal.pipeline.AuditGate;
import dev.mcpsecure.core.internal.stdio.StdioLineTransport;
import io.modelcontextprotocol.json.McpJsonDefaults;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Serves an app's tools over stdio (the preferred transport: no listening socket) behind a policy
 * file. The app's {@code main} is one line:
 *
 * <pre>{@code
 * public static void main(String[] args) {
 *     System.exit(SecureStdioServer.run(args, server -> server.tool(myTool).tool(myRiskyTool, RiskClass.EXEC)));
 * }
 * }</pre>
 *
 * <p>Arguments: {@code --policy <file>} (or the environment variable {@value #POLICY_ENV}). It
 * loads the policy (every problem to stderr, exit {@value #EXIT_INVALID_POLICY}), runs the {@link
 * Preflight} check (its table to stderr, an audit event; with {@code preflight.mode: enforce} a
 * failed check means exit {@value #EXIT_PREFLIGHT_FAILED}), builds the server with {@link
 * SecureMcpServer}, serves until stdin closes, and returns {@value #EXIT_OK}. When the tools do
 * not match the policy's lockfile (enforce mode), or the lockfile is missing, malformed or badly
 * signed, it lists why on stderr and returns {@value #EXIT_PINNING_FAILED}. Stdout carries only
 * protocol messages; everything else goes to stderr or the log.
 *
 * <p>{@code <server> lock --policy <file> [--sign-key <key>] [--check]} runs the {@link
 * LockCommand} instead of serving. {@code <server> verify-image <image.tar> [--policy <file>]
 * [--main-class <name>]} runs the {@link ImageCheck} of an image of this server (main class: the
 * class whose {@code main} called this launcher, unless given): exit {@value
 * ImageCheck#EXIT_OK} when the image passes, {@value ImageCheck#EXIT_REJECTED} with one line per
 * problem on stderr when not.
 */
public final class SecureStdioServer {

    /** The environment variable naming the policy file when no {@code --policy} is given. */
    public static final String POLICY_ENV = "MCP_SECURE_POLICY";
    /** Served until stdin closed. */
    public static final int EXIT_OK = 0;
    /** The policy file has problems (listed on stderr). */
    public static final int EXIT_INVALID_POLICY = PolicyLoader.EXIT_INVALID_POLICY;
    /** The arguments are wrong (usage on stderr). */
    public static final int EXIT_USAGE = 64;
    /** The policy file cannot be read. */
    public static final int EXIT_NO_INPUT = PolicyLoader.EXIT_NO_INPUT;
    /** The preflight check failed and the policy's preflight mode is {@code enforce}. */
    public static final int EXIT_PREFLIGHT_FAILED = ServerStart.EXIT_PREFLIGHT_FAILED;
    /** The tools drifted from the lockfile (enforce mode), or the lockfile cannot be trusted. */
    public static final int EXIT_PINNING_FAILED = ServerStart.EXIT_PINNING_FAILED;

    private SecureStdioServer() {}

    /** Serves on this process's stdin and stdout; see the class description. */
    public static int run(String[] args, Consumer<SecureMcpServer.Builder> tools) {
        return run(args, System.getenv(), System.in, System.out, System.err, Preflight.Runtime.current(), tools);
    }

    /**
     * Serves on {@code in} and {@code out}, reporting to {@code err}; for tests and embedding.
     *
     * @param runtime what the preflight check reads
     * @param tools adds the app's tools (and sources, sinks) to the builder
     */
    public static int run(
            String[] args,
            Map<String, String> env,
            InputStream in,
            OutputStream out,
            PrintStream err,
            Preflight.Runtime runtime,
            Consumer<SecureMcpServer.Builder> tools) {
        if (LockCommand.requested(args)) {
            return LockCommand.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8), err, tools);
        }
        if (ImageCheck.requested(args)) {
            return ImageCheck.run(
                    args,
                    env,
                    new PrintStream(out, true, StandardCharsets.UTF_8),
                    err,
                    ImageCheck.callerMainClass().orElse(null));
        }
        String policyFile = policyFile(args, env);
        if (policyFile == null) {
            err.println("usage: <server> --policy <policy.yaml>   (or set " + POLICY_ENV + ")");
            return EXIT_USAGE;
        }
        ServerStart start = ServerStart.prepare(Path.of(policyFile), env, runtime, err, tools);
        if (!start.ready()) {
            return start.exitCode();
        }
        SecureMcpServer.Builder builder = start.builder();
        SecurityPolicy policy = start.policy();
        AuditGate audit = builder.gate();
        String name = policy.server().name();
        StdioLineTransport transport = new StdioLineTransport(
                McpJsonDefaults.getMapper(),
                in,
                out,
                policy.limits().maxMessageBytes(),
                (session, detail) -> audit.record(
                        AuditEvent.message(name, session, Decision.deny(ReasonCode.MALFORMED_MESSAGE, detail))));
        SecureMcpServer server;
        try {
            server = builder.build(transport);
        } catch (PinningException e) {
            return ServerStart.refused(e, err);
        }
        try {
            transport.awaitEndOfInput();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            server.close();
        }
        return EXIT_OK;
    }

    private static String policyFile(String[] args, Map<String, String> env) {
        if (args.length == 2 && args[0].equals("--policy") && !args[1].isBlank()) {
            return args[1];
        }
        if (args.length == 0) {
            String fromEnv = env.get(POLICY_ENV);
            return fromEnv == null || fromEnv.isBlank() ? null : fromEnv;
        }
        return null;
    }
}
