package dev.mcpsecure.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs scripts with the official Python MCP SDK ({@code mcp} from PyPI, version {@value
 * #MCP_VERSION}), provisioned on first use into a virtualenv under {@code ~/.cache/mcp-secure/}
 * (or {@code $MCP_SECURE_CACHE}). Never skips: when Python or the registry is missing, the test
 * fails with what to install.
 */
public final class PythonMcpClient {

    /** The pinned version of PyPI's {@code mcp} package. */
    public static final String MCP_VERSION = "2.3.0";

    private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(5);

    private PythonMcpClient() {}

    /** What a script printed and how it ended. */
    public record Result(int exitCode, String stdout, String stderr) {}

    /**
     * Runs {@code script} with {@code args} under the virtualenv's Python.
     *
     * @throws IllegalStateException if the client cannot be provisioned, or the script outlives
     *     {@code timeout} (it is killed)
     */
    public static Result run(Path script, List<String> args, Duration timeout) {
        List<String> command = new ArrayList<>();
        command.add(python().toString());
        command.add(script.toString());
        command.addAll(args);
        return exec(command, timeout);
    }

    /** The virtualenv's Python with {@code mcp} installed, provisioning it when needed. */
    public static synchronized Path python() {
        Path home = cacheDir().resolve("python-mcp-" + MCP_VERSION);
        Path python = home.resolve("bin").resolve("python");
        if (Files.isExecutable(python)
                && exec(List.of(python.toString(), "-c", "import mcp"), Duration.ofMinutes(1))
                                .exitCode()
                        == 0) {
            return python;
        }
        Path staging = home.resolveSibling(
                home.getFileName() + ".staging-" + ProcessHandle.current().pid());
        try {
            deleteTree(staging);
            Files.createDirectories(staging.getParent());
            require(
                    exec(List.of("python3", "-m", "venv", staging.toString()), INSTALL_TIMEOUT),
                    "python3 -m venv",
                    home);
            require(
                    exec(
                            List.of(
                                    staging.resolve("bin/python").toString(),
                                    "-m",
                                    "pip",
                                    "install",
                                    "--quiet",
                                    "--disable-pip-version-check",
                                    "mcp==" + MCP_VERSION),
                            INSTALL_TIMEOUT),
                    "pip install mcp==" + MCP_VERSION,
                    home);
            deleteTree(home);
            try {
                Files.move(staging, home, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(staging, home);
            }
        } catch (IOException e) {
            throw new IllegalStateException(hint(home, e.toString()), e);
        } finally {
            deleteTreeQuietly(staging);
        }
        return python;
    }

    private static Path cacheDir() {
        String override = System.getenv("MCP_SECURE_CACHE");
        return override != null && !override.isBlank()
                ? Path.of(override)
                : Path.of(System.getProperty("user.home"), ".cache", "mcp-secure");
    }

    private static void require(Result result, String step, Path home) {
        if (result.exitCode() != 0) {
            String output = (result.stdout() + result.stderr()).strip();
            String tail = output.length() > 2000 ? output.substring(output.length() - 2000) : output;
            throw new IllegalStateException(
                    hint(home, step + " failed with exit code " + result.exitCode() + ":\n" + tail));
        }
    }

    private static String hint(Path home, String cause) {
        return "cannot provision the Python MCP client (mcp==" + MCP_VERSION + ") into " + home + ": " + cause
                + "\nInstall hint: a python3 with the venv module (Debian: apt-get install python3-venv) and access to"
                + " PyPI; or create it by hand: python3 -m venv " + home + " && " + home
                + "/bin/pip install mcp==" + MCP_VERSION;
    }

    private static Result exec(List<String> command, Duration timeout) {
        Process process;
        try {
            process = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.PIPE)
                    .start();
        } catch (IOException e) {
            return new Result(127, "", "cannot start " + command.get(0) + ": " + e.getMessage());
        }
        try {
            process.getOutputStream().close();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> drain(process.getInputStream()));
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(process.getErrorStream()));
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                throw new IllegalStateException(command.get(0) + " did not finish within " + timeout + "; killed");
            }
            return new Result(process.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IllegalStateException("interrupted while running " + command.get(0), e);
        }
    }

    private static String drain(InputStream stream) {
        try (stream) {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    private static void deleteTreeQuietly(Path root) {
        try {
            deleteTree(root);
        } catch (IOException e) {
            // a leftover staging folder is replaced on the next attempt
        }
    }
}
