package dev.mcpsecure.core;

import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.FilesystemRoot;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ProgramPolicy;
import dev.mcpsecure.api.ProgramProfile;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.Untrusted;
import dev.mcpsecure.core.internal.egress.PolicyEgressGuard;
import dev.mcpsecure.core.internal.exec.GitProfile;
import dev.mcpsecure.core.internal.exec.GitShadow;
import dev.mcpsecure.core.internal.exec.PolicyCommandGuard;
import dev.mcpsecure.core.internal.exec.PolicyCommandGuard.Authorized;
import dev.mcpsecure.core.internal.files.PolicyFilesystemGuard;
import dev.mcpsecure.core.internal.pipeline.Effects;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs the programs the policy lists, the way tools must: by logical name, with an argument
 * vector the program's rules accept, never through a shell, with an environment of listed
 * variables only (and a fixed {@code PATH}), in a working directory inside a filesystem root,
 * with stdin closed, stdout and stderr read concurrently into bounded buffers, and a timeout
 * after which the whole process tree is killed.
 *
 * <p>A program's fixed arguments and environment come before (arguments) and after (environment)
 * what the tool chose; a program under a {@link ProgramProfile} gets the profile's too. Under the
 * git profile each run also gets its own stand-in for the repository's configuration (see {@code
 * internal.exec.GitShadow}), made before the run from one {@code git config --file} read of the
 * repository's configuration file (at most 10 s), and deleted after it.
 *
 * <p>Denials throw {@link PolicyViolationException} ({@code COMMAND_NOT_ALLOWED}, {@code
 * ARGUMENT_NOT_ALLOWED}, {@code ENV_NOT_ALLOWED}, {@code CWD_OUTSIDE_ROOTS}, {@code
 * BINARY_CHANGED}, an egress code such as {@code EGRESS_HOST_NOT_ALLOWED} for a URL argument,
 * {@code CONCURRENCY_LIMITED} past {@code maxConcurrentProcesses}, {@code TIMEOUT}); no process is
 * started on a denial. Let the exception propagate out of the tool and the pipeline answers the
 * call with that reason code and audits it. Thread-safe.
 */
public final class SecureExec {

    /** Threads that drain child output: never the common pool, which a blocked reader could starve. */
    private static final ExecutorService STREAM_READERS = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "mcp-secure-exec-output");
        thread.setDaemon(true);
        return thread;
    });

    /** Longest read of a repository's configuration file before a git run. */
    private static final Duration CONFIG_READ_TIMEOUT = Duration.ofSeconds(10);
    /** Largest configuration listing read before a git run. */
    private static final long CONFIG_READ_CAP = 1L << 20;

    private final PolicyCommandGuard guard;
    private final Semaphore processes;
    private final Path scratch;
    private final AtomicLong started = new AtomicLong();

    private SecureExec(PolicyCommandGuard guard, int maxConcurrentProcesses, Path scratch) {
        this.guard = guard;
        this.processes = new Semaphore(maxConcurrentProcesses);
        this.scratch = scratch;
    }

    /**
     * Program runs as {@code policy} allows them; working directories and path arguments are
     * checked against its filesystem roots, and programs run in its base root (or first root)
     * when the caller names no directory.
     *
     * URL arguments are checked against its egress rules. Under the git profile, per-run
     * directories are made in {@code java.io.tmpdir}, which must lie outside every root.
     *
     * @throws IllegalArgumentException naming a program that is missing, not executable, an
     *     unrestricted shell or launcher, or unfit for its profile, a root that does not exist, or
     *     a temporary directory inside a root
     */
    public static SecureExec of(SecurityPolicy policy) {
        PolicyFilesystemGuard files = new PolicyFilesystemGuard(policy.filesystem());
        Optional<Path> cwd = policy.filesystem()
                .base()
                .or(() -> policy.filesystem().roots().stream().findFirst().map(FilesystemRoot::path));
        PolicyCommandGuard guard = new PolicyCommandGuard(
                policy.commands(), files, new PolicyEgressGuard(policy.egress()), cwd, System.getenv());
        Path scratch = Path.of(System.getProperty("java.io.tmpdir"));
        if (guard.usesGitProfile()) {
            scratch = outsideRoots(scratch, policy);
        }
        return new SecureExec(guard, policy.commands().maxConcurrentProcesses(), scratch);
    }

    /** {@code dir}'s real path, when no root of {@code policy} contains it (a tool could write there). */
    private static Path outsideRoots(Path dir, SecurityPolicy policy) {
        Path real;
        try {
            real = dir.toRealPath();
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "the temporary directory " + dir + " (java.io.tmpdir) does not exist", e);
        }
        for (FilesystemRoot root : policy.filesystem().roots()) {
            Path rootReal;
            try {
                rootReal = root.path().toRealPath();
            } catch (IOException e) {
                rootReal = root.path();
            }
            if (real.startsWith(rootReal)) {
                throw new IllegalArgumentException("the git profile makes a private directory for each run in "
                        + real + " (java.io.tmpdir), which is inside the filesystem root " + root.path()
                        + " that tools can write to; point -Djava.io.tmpdir elsewhere");
            }
        }
        return real;
    }

    /**
     * What a run produced.
     *
     * @param exitCode the program's exit code
     * @param stdout what it wrote to stdout, up to the program's output cap, as UTF-8
     * @param stderr likewise for stderr
     * @param stdoutTruncated whether stdout was longer than the cap
     * @param stderrTruncated whether stderr was longer than the cap
     * @param duration how long it ran
     */
    public record Result(
            int exitCode,
            String stdout,
            String stderr,
            boolean stdoutTruncated,
            boolean stderrTruncated,
            Duration duration) {}

    /** Runs {@code program} with {@code args} in the default directory, with no extra environment. */
    public Result run(String program, List<String> args) throws IOException {
        return run(program, args, Map.of(), null);
    }

    /**
     * Runs {@code program}.
     *
     * @param env values for variables the program's policy lists (others are denied)
     * @param workingDirectory as the client sent it, or {@code null} for the default
     * @throws PolicyViolationException on a denial or a timeout; no process is left running
     * @throws IOException if the program cannot be started
     */
    public Result run(String program, List<String> args, Map<String, String> env, String workingDirectory)
            throws IOException {
        long start = System.nanoTime();
        String what = "run " + Untrusted.text(program) + " with " + args.size() + " argument(s)";
        Result result;
        try {
            result = runUnaudited(program, args, env, workingDirectory);
        } catch (PolicyViolationException e) {
            Effects.record("process", e.decision(), what, start, null, null);
            throw e;
        } catch (IOException e) {
            Effects.record("process", Decision.allow(), what + " (failed to start)", start, null, null);
            throw e;
        }
        Effects.record("process", Decision.allow(), what + ", exit " + result.exitCode(), start, null, null);
        return result;
    }

    private Result runUnaudited(String program, List<String> args, Map<String, String> env, String workingDirectory)
            throws IOException {
        Authorized run = guard.authorize(program, List.copyOf(args), Map.copyOf(env), workingDirectory);
        if (!processes.tryAcquire()) {
            throw new PolicyViolationException(Decision.deny(
                    ReasonCode.CONCURRENCY_LIMITED, "the server is running its maximum number of programs; try again"));
        }
        try {
            return execute(run);
        } finally {
            processes.release();
        }
    }

    /** How many programs this instance has started for tools (a profile's own reads are not counted): for tests and metrics. */
    public long startedCount() {
        return started.get();
    }

    private Result execute(Authorized run) throws IOException {
        ProgramPolicy policy = run.policy();
        if (run.profile() != ProgramProfile.GIT || !GitProfile.shadowsRepository(run.subcommand())) {
            return spawn(
                    run.command(),
                    run.environment(),
                    run.cwd(),
                    run.name(),
                    policy.maxOutputBytes(),
                    policy.timeout(),
                    true);
        }
        try (GitShadow shadow = GitShadow.open(run.cwd(), scratch, (file, dir) -> readConfig(run, file, dir))) {
            Map<String, String> environment = new HashMap<>(run.environment());
            environment.putAll(shadow.environment());
            return spawn(
                    run.command(), environment, run.cwd(), run.name(), policy.maxOutputBytes(), policy.timeout(), true);
        }
    }

    /**
     * {@code git config --file <file> --no-includes --list -z} with the run's git, in {@code dir}
     * (which has no repository above it that git may look at), under the profile's environment.
     */
    private Optional<String> readConfig(Authorized run, Path file, Path dir) {
        List<String> command = List.of(
                run.command().get(0),
                "--no-pager",
                "config",
                "--file",
                file.toString(),
                "--no-includes",
                "--list",
                "-z");
        Map<String, String> environment = new HashMap<>(GitProfile.ENV);
        environment.put("PATH", PolicyCommandGuard.SAFE_PATH);
        environment.put("GIT_CEILING_DIRECTORIES", dir.getParent().toString());
        Duration timeout = run.policy().timeout().compareTo(CONFIG_READ_TIMEOUT) < 0
                ? run.policy().timeout()
                : CONFIG_READ_TIMEOUT;
        try {
            Result result = spawn(command, environment, dir, run.name(), CONFIG_READ_CAP, timeout, false);
            return result.exitCode() == 0 && !result.stdoutTruncated()
                    ? Optional.of(result.stdout())
                    : Optional.empty();
        } catch (IOException | PolicyViolationException e) {
            return Optional.empty();
        }
    }

    private Result spawn(
            List<String> command,
            Map<String, String> environment,
            Path cwd,
            String name,
            long cap,
            Duration timeout,
            boolean counted)
            throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(cwd.toFile());
        builder.environment().clear();
        builder.environment().putAll(environment);
        long start = System.nanoTime();
        Process process = builder.start();
        if (counted) {
            started.incrementAndGet();
        }
        process.getOutputStream().close();
        CompletableFuture<Captured> stdout =
                CompletableFuture.supplyAsync(() -> capture(process.getInputStream(), cap), STREAM_READERS);
        CompletableFuture<Captured> stderr =
                CompletableFuture.supplyAsync(() -> capture(process.getErrorStream(), cap), STREAM_READERS);
        boolean finished;
        try {
            finished = process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            killTree(process);
            Thread.currentThread().interrupt();
            throw new PolicyViolationException(
                    Decision.deny(ReasonCode.TIMEOUT, "program '" + name + "' was interrupted"));
        }
        if (!finished) {
            killTree(process);
            drained(stdout, process.getInputStream());
            drained(stderr, process.getErrorStream());
            throw new PolicyViolationException(Decision.deny(
                    ReasonCode.TIMEOUT, "program '" + name + "' did not finish within " + timeout.toMillis() + " ms"));
        }
        // After a normal exit the program's own children, if any, were re-parented and are no longer
        // its descendants; scanning for them would cost a walk of every process for nothing.
        Captured out = drained(stdout, process.getInputStream());
        Captured err = drained(stderr, process.getErrorStream());
        return new Result(
                process.exitValue(),
                out.text(),
                err.text(),
                out.truncated(),
                err.truncated(),
                Duration.ofNanos(System.nanoTime() - start));
    }

    /**
     * The captured stream; if a background child still holds the pipe open after the program
     * ended, the pipe is closed after a short grace so the call does not wait for the child.
     */
    private static Captured drained(CompletableFuture<Captured> capture, InputStream stream) {
        try {
            return capture.get(2, TimeUnit.SECONDS);
        } catch (Exception e) {
            try {
                stream.close();
            } catch (IOException closing) {
                // the reader sees the end either way
            }
            return capture.join();
        }
    }

    /**
     * Kills (SIGKILL) the process and everything it started that is still attached to it,
     * children first so none is re-parented in between, and waits for the process itself.
     */
    private static void killTree(Process process) {
        List<ProcessHandle> descendants = process.descendants().toList();
        descendants.forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.onExit().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            // it was sent SIGKILL; nothing more can be done
        }
    }

    private record Captured(String text, boolean truncated) {}

    /** Reads the whole stream, keeping the first {@code cap} bytes, so the child never blocks on a full pipe. */
    private static Captured capture(InputStream in, long cap) {
        ByteArrayOutputStream kept = new ByteArrayOutputStream();
        boolean truncated = false;
        byte[] buffer = new byte[8192];
        try (in) {
            for (int read; (read = in.read(buffer)) >= 0; ) {
                long room = cap - kept.size();
                if (room > 0) {
                    kept.write(buffer, 0, (int) Math.min(room, read));
                }
                if (read > room) {
                    truncated = true;
                }
            }
        } catch (IOException e) {
            // the process was killed: keep what was read
        }
        return new Captured(kept.toString(StandardCharsets.UTF_8), truncated);
    }

    @Override
    public String toString() {
        return "SecureExec[started=" + started.get() + ", available=" + processes.availablePermits() + "]";
    }
}
