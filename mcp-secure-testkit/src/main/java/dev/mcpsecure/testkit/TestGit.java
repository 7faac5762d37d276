package dev.mcpsecure.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The machine's git ({@code /usr/bin/git}) for building test repositories: an empty environment
 * but {@code PATH}, no user or system configuration, hooks and fsmonitor off, and a fixed
 * identity, so a fixture neither depends on the machine's setup nor triggers what a test plants
 * in a repository. Thread-safe.
 */
public final class TestGit {

    /** The git the tests run. */
    public static final Path GIT = Path.of("/usr/bin/git");

    private TestGit() {}

    /** What a git run printed (stdout and stderr together) and its exit code. */
    public record Run(int exitCode, String output) {}

    /**
     * Runs git with {@code args} in {@code dir}.
     *
     * @return its output
     * @throws IllegalStateException if git exits with an error or takes over 30 s
     */
    public static String run(Path dir, String... args) {
        Run run = attempt(dir, Map.of(), args);
        if (run.exitCode() != 0) {
            throw new IllegalStateException("git " + String.join(" ", args) + " failed: " + run.output());
        }
        return run.output();
    }

    /** Runs git with {@code args} in {@code dir}, {@code env} added to its environment, whatever comes of it. */
    public static Run attempt(Path dir, Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>(List.of(
                GIT.toString(),
                "-c",
                "user.name=Tester",
                "-c",
                "user.email=tester@example.com",
                "-c",
                "core.hooksPath=/dev/null",
                "-c",
                "core.fsmonitor=false"));
        command.addAll(List.of(args));
        ProcessBuilder builder =
                new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        builder.environment().clear();
        builder.environment().put("PATH", "/usr/bin:/bin");
        builder.environment().put("GIT_CONFIG_NOSYSTEM", "1");
        builder.environment().put("GIT_CONFIG_GLOBAL", "/dev/null");
        builder.environment().putAll(env);
        try {
            Process process = builder.start();
            String output = new String(process.getInputStream().readAllBytes());
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("git " + String.join(" ", args) + " took over 30 s");
            }
            return new Run(process.exitValue(), output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
