package dev.mcpsecure.http;

import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.core.ImageCheck;
import dev.mcpsecure.core.LockCommand;
import dev.mcpsecure.core.PinningException;
import dev.mcpsecure.core.PolicyLoader;
import dev.mcpsecure.core.Preflight;
import dev.mcpsecure.core.SecureMcpServer;
import dev.mcpsecure.core.ServerStart;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

/**
 * Runs a secured MCP server on streamable HTTP from a {@code main} method, the way
 * {@code SecureStdioServer} does on stdio.
 *
 * <p>Arguments: {@code --policy <file> [--port <n>]} (default port {@value #DEFAULT_PORT}). It
 * loads the policy (every problem to stderr, exit {@value #EXIT_INVALID_POLICY}), runs the
 * preflight check (table on stderr; in enforce mode a failure exits {@value #EXIT_PREFLIGHT_FAILED}),
 * starts a {@link SecureHttpServer}, prints {@code mcp-secure: serving <endpoint>} on stderr, and
 * serves until the process is stopped (SIGTERM or SIGINT), then closes the server and returns
 * {@value #EXIT_OK}. Tools that do not match the policy's lockfile exit {@value #EXIT_PINNING_FAILED}.
 * Nothing is written to stdout. {@code <server> lock ...} runs the {@link LockCommand} instead, and
 * {@code <server> verify-image <image.tar> ...} the {@link ImageCheck} of an image of this server.
 */
public final class SecureHttpLauncher {

    /** The port when none is given. */
    public static final int DEFAULT_PORT = 8080;
    /** Stopped normally. */
    public static final int EXIT_OK = 0;
    /** The arguments are wrong (usage on stderr). */
    public static final int EXIT_USAGE = 64;
    /** The policy file is invalid. */
    public static final int EXIT_INVALID_POLICY = PolicyLoader.EXIT_INVALID_POLICY;
    /** Preflight failed in enforce mode, or the address could not be bound. */
    public static final int EXIT_PREFLIGHT_FAILED = ServerStart.EXIT_PREFLIGHT_FAILED;
    /** The tools drifted from the lockfile (enforce mode), or the lockfile cannot be trusted. */
    public static final int EXIT_PINNING_FAILED = ServerStart.EXIT_PINNING_FAILED;

    private SecureHttpLauncher() {}

    /** Serves until the process is stopped; see the class description. */
    public static int run(String[] args, Consumer<SecureMcpServer.Builder> tools) {
        PrintStream err = System.err;
        if (LockCommand.requested(args)) {
            return LockCommand.run(args, System.getenv(), System.out, err, tools);
        }
        if (ImageCheck.requested(args)) {
            return ImageCheck.run(
                    args,
                    System.getenv(),
                    System.out,
                    err,
                    ImageCheck.callerMainClass().orElse(null));
        }
        String policyFile = null;
        int port = DEFAULT_PORT;
        for (int i = 0; i < args.length; i += 2) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            if (args[i].equals("--policy") && value != null && !value.isBlank()) {
                policyFile = value;
            } else if (args[i].equals("--port")
                    && value != null
                    && value.matches("[0-9]{1,5}")
                    && Integer.parseInt(value) <= 65535) {
                port = Integer.parseInt(value);
            } else {
                policyFile = null;
                break;
            }
        }
        if (policyFile == null) {
            err.println(
                    "usage: <server> --policy <policy.yaml> [--port <0-65535>]   (default port " + DEFAULT_PORT + ")");
            return EXIT_USAGE;
        }
        ServerStart start = ServerStart.prepare(Path.of(policyFile), Preflight.Runtime.current(), err, tools);
        if (!start.ready()) {
            return start.exitCode();
        }
        SecurityPolicy policy = start.policy();
        SecureMcpServer.Builder builder = start.builder();
        SecureHttpServer server;
        try {
            server = SecureHttpServer.builder(builder, policy).port(port).start();
        } catch (PinningException e) {
            return ServerStart.refused(e, err);
        } catch (IllegalStateException e) {
            err.println("the server did not start: " + e.getMessage());
            return EXIT_PREFLIGHT_FAILED;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            server.close();
                            stopped.countDown();
                        },
                        "mcp-secure-http-shutdown"));
        err.println("mcp-secure: serving " + server.endpoint()
                + policy.transport()
                        .auth()
                        .map(auth -> " for resource " + auth.resource() + " (bearer tokens from " + auth.issuer() + ")")
                        .orElse(" without authentication (loopback only)"));
        err.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.close();
        }
        return EXIT_OK;
    }
}
