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
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * How the testkit installs the real tools tests need (the Python MCP client, OpenBao) into a
 * cache directory once, and runs short commands with bounded output reading.
 */
final class Provisioning {

    /** Threads that drain child output: never the common pool, which may have a single thread. */
    private static final ExecutorService DRAINERS = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "mcp-secure-testkit-drain");
        thread.setDaemon(true);
        return thread;
    });

    /** Installs into a fresh staging directory. */
    @FunctionalInterface
    interface Installer {
        void installInto(Path staging) throws IOException;
    }

    private Provisioning() {}

    /** {@code $MCP_SECURE_CACHE}, or {@code ~/.cache/mcp-secure}. */
    static Path cacheDir() {
        String override = System.getenv("MCP_SECURE_CACHE");
        return override != null && !override.isBlank()
                ? Path.of(override)
                : Path.of(System.getProperty("user.home"), ".cache", "mcp-secure");
    }

    /**
     * {@code home}, installed by {@code installer} into a staging directory that is then moved
     * into place, unless {@code ready} already holds for it — so an interrupted install never
     * leaves a half-filled {@code home}.
     */
    static Path provision(Path home, Predicate<Path> ready, Installer installer) throws IOException {
        if (ready.test(home)) {
            return home;
        }
        Path staging = home.resolveSibling(
                home.getFileName() + ".staging-" + ProcessHandle.current().pid());
        try {
            deleteTree(staging);
            Files.createDirectories(staging.getParent());
            installer.installInto(staging);
            deleteTree(home);
            try {
                Files.move(staging, home, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(staging, home);
            }
        } finally {
            deleteTreeQuietly(staging);
        }
        return home;
    }

    /** Throws {@link IOException} naming {@code step} and the output's tail when it failed. */
    static void require(PythonMcpClient.Result result, String step) throws IOException {
        if (result.exitCode() != 0) {
            String output = (result.stdout() + result.stderr()).strip();
            String tail = output.length() > 2000 ? output.substring(output.length() - 2000) : output;
            throw new IOException(step + " failed with exit code " + result.exitCode() + ":\n" + tail);
        }
    }

    /** Runs {@code command} with stdin closed; kills it after {@code timeout}. */
    static PythonMcpClient.Result exec(List<String> command, Duration timeout) {
        Process process;
        try {
            process = new ProcessBuilder(command).start();
        } catch (IOException e) {
            return new PythonMcpClient.Result(127, "", "cannot start " + command.get(0) + ": " + e.getMessage());
        }
        try {
            process.getOutputStream().close();
            CompletableFuture<String> out =
                    CompletableFuture.supplyAsync(() -> drain(process.getInputStream()), DRAINERS);
            CompletableFuture<String> err =
                    CompletableFuture.supplyAsync(() -> drain(process.getErrorStream()), DRAINERS);
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                throw new IllegalStateException(command.get(0) + " did not finish within " + timeout + "; killed");
            }
            return new PythonMcpClient.Result(process.exitValue(), out.join(), err.join());
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

    static void deleteTree(Path root) throws IOException {
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
