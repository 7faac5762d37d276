package dev.mcpsecure.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.mcpsecure.api.ArgRule;
import dev.mcpsecure.api.FileAccess;
import dev.mcpsecure.api.FilesystemPolicy;
import dev.mcpsecure.api.FilesystemRoot;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ProgramPolicy;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SecurityPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SecureExec against real programs (git, tar, find, env and a test script) in real temporary
 * directories. Every row says why; every denial asserts that no process started and no marker
 * file appeared.
 */
class SecureExecTest {

    @TempDir
    Path tmp;

    Path root;
    Path outside;
    Path marker;
    Path script;
    SecurityPolicy.Builder policy;

    @BeforeEach
    void buildFixture() throws Exception {
        root = Files.createDirectories(tmp.resolve("root"));
        outside = Files.createDirectories(tmp.resolve("outside"));
        marker = tmp.resolve("marker");
        Files.createDirectories(root.resolve("data/sub"));
        Files.writeString(root.resolve("data/a.txt"), "a");
        Files.writeString(root.resolve("data/sub/b.txt"), "b");
        Files.createSymbolicLink(root.resolve("link-out"), outside);
        git("init", "-q", "repo");
        Files.writeString(root.resolve("repo/README.md"), "hello");
        git("-C", "repo", "add", "README.md");
        git("-C", "repo", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "first commit");
        run(root, "/usr/bin/tar", "-c", "-f", "archive.tar", "data");
        Path evil = Files.createDirectories(root.resolve("repo/evil"));
        executable(evil.resolve("git"), "#!/bin/sh\ntouch '" + marker + "'\n");
        script = executable(
                root.resolve("bin/echo-args.sh"),
                String.join(
                        "\n",
                        "#!/bin/sh",
                        "for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done",
                        "printf 'cwd=%s\\n' \"$(pwd)\"",
                        "printf 'LANG=%s\\n' \"${LANG:-}\"",
                        "printf 'HOME=%s\\n' \"${HOME:-}\"",
                        ""));
        policy = SecurityPolicy.builder()
                .filesystem(FilesystemPolicy.builder()
                        .root(FilesystemRoot.readWrite(root))
                        .base(root)
                        .build())
                .program(
                        "git",
                        ProgramPolicy.builder(Path.of("/usr/bin/git"))
                                .subcommands("status", "log", "show", "diff")
                                .flags("--oneline", "-n", "--stat", "--no-color", "--short")
                                .arg(new ArgRule.Regex("[0-9]{1,3}|[0-9a-f]{4,40}|HEAD(~[0-9]{1,3})?"))
                                .timeout(Duration.ofSeconds(20))
                                .build())
                .program(
                        "tar",
                        ProgramPolicy.builder(Path.of("/usr/bin/tar"))
                                .flags("-t", "-f")
                                .arg(new ArgRule.PathArgument(FileAccess.READ_ONLY))
                                .build())
                .program(
                        "find",
                        ProgramPolicy.builder(Path.of("/usr/bin/find"))
                                .flags("-name", "-type")
                                .arg(new ArgRule.PathArgument(FileAccess.READ_ONLY))
                                .arg(new ArgRule.Regex("[A-Za-z0-9*._-]+"))
                                .build())
                .program(
                        "env",
                        ProgramPolicy.builder(Path.of("/usr/bin/env"))
                                .maxArgs(0)
                                .env("LANG")
                                .build())
                .program(
                        "echo_args",
                        ProgramPolicy.builder(script)
                                .sha256(sha256(script))
                                .arg(new ArgRule.Regex("(?s).*"))
                                .arg(new ArgRule.Regex("(?s).*"))
                                .maxArgs(4)
                                .maxArgLength(100)
                                .env("LANG")
                                .build());
    }

    private void git(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("/usr/bin/git"));
        command.addAll(List.of(args));
        run(root, command.toArray(String[]::new));
    }

    private static void run(Path dir, String... command) throws Exception {
        Process process = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        String output = new String(process.getInputStream().readAllBytes());
        if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
        }
    }

    private static Path executable(Path path, String content) throws IOException {
        Files.createDirectories(path.getParent());
        Files.writeString(path, content);
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxr-xr-x"));
        return path;
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    /** One run: program, arguments, environment, working directory, and what must happen. */
    record Case(
            String why,
            String program,
            List<String> args,
            Map<String, String> env,
            String cwd,
            String expected,
            Consumer<SecureExecTest> before) {
        @Override
        public String toString() {
            return why;
        }
    }

    static Case ok(String why, String program, List<String> args, String cwd, String output) {
        return new Case(why, program, args, Map.of(), cwd, "ok:" + output, t -> {});
    }

    static Case denied(String why, String program, List<String> args, ReasonCode reason) {
        return new Case(why, program, args, Map.of(), null, reason.name(), t -> {});
    }

    static Case envDenied(String why, String program, Map<String, String> env) {
        List<String> args = program.equals("git") ? List.of("status") : List.of();
        return new Case(why, program, args, env, null, ReasonCode.ENV_NOT_ALLOWED.name(), t -> {});
    }

    static Stream<Arguments> cases() {
        String m = "{marker}";
        return Stream.of(
                        // legitimate runs that must work
                        ok("git status in an allowed repository", "git", List.of("status", "--short"), "repo", ""),
                        ok(
                                "git log with listed flags and a count",
                                "git",
                                List.of("log", "--oneline", "-n", "1"),
                                "repo",
                                "first commit"),
                        ok(
                                "tar lists an archive inside the root",
                                "tar",
                                List.of("-t", "-f", "archive.tar"),
                                null,
                                "data/a.txt"),
                        ok(
                                "find with a listed test and a pattern",
                                "find",
                                List.of("data", "-name", "*.txt"),
                                null,
                                "data/sub/b.txt"),
                        ok(
                                "env shows a scrubbed environment",
                                "env",
                                List.of(),
                                null,
                                "PATH=/usr/local/bin:/usr/bin:/bin"),
                        ok(
                                "the script runs in the default directory, the base root",
                                "echo_args",
                                List.of(),
                                null,
                                "cwd={root}"),
                        ok("a working directory inside the root", "echo_args", List.of(), "data", "cwd={root}/data"),
                        ok(
                                "a PATH-hijack directory as cwd: the absolute program runs, not ./git",
                                "git",
                                List.of("status"),
                                "repo/evil",
                                ""),

                        // shell metacharacters reach the program literally and never execute
                        ok(
                                "a semicolon is just a character",
                                "echo_args",
                                List.of("; touch " + m),
                                null,
                                "[; touch {marker}]"),
                        ok(
                                "command substitution is not evaluated",
                                "echo_args",
                                List.of("$(touch " + m + ")"),
                                null,
                                "[$(touch {marker})]"),
                        ok(
                                "backticks are not evaluated",
                                "echo_args",
                                List.of("`touch " + m + "`"),
                                null,
                                "[`touch {marker}`]"),
                        ok(
                                "a pipe is not a pipe",
                                "echo_args",
                                List.of("x | touch " + m),
                                null,
                                "[x | touch {marker}]"),
                        ok(
                                "&& is not a conjunction",
                                "echo_args",
                                List.of("x && touch " + m),
                                null,
                                "[x && touch {marker}]"),
                        ok(
                                "a newline does not start a command",
                                "echo_args",
                                List.of("x\ntouch " + m),
                                null,
                                "[x\ntouch {marker}]"),
                        ok("globs are not expanded", "echo_args", List.of("*"), null, "[*]"),

                        // argument injection
                        denied(
                                "git --upload-pack runs a command",
                                "git",
                                List.of("log", "--upload-pack=touch " + m),
                                ReasonCode.ARGUMENT_NOT_ALLOWED),
                        denied(
                                "git -c core.sshCommand runs a command",
                                "git",
                                List.of("-c", "core.sshCommand=touch " + m, "status"),
                                ReasonCode.ARGUMENT_NOT_ALLOWED),
                        denied(
                                "git --output writes a file anywhere",
                                "git",
                                List.of("log", "--output={outside}/x"),
                                ReasonCode.ARGUMENT_NOT_ALLOWED),
                        denied(
                                "git --exec-path changes what runs",
                                "git",
                                List.of("log", "--exec-path={outside}"),
                                ReasonCode.ARGUMENT_NOT_ALLOWED),
                        denied(
                                "a subcommand that is not listed",
                                "git",
                                List.of("push"),
                                ReasonCode.ARGUMENT_NOT_ALLOWED),
                        denied("no subcommand at all", "git", List.of(), ReasonCode.ARGUMENT_NOT_ALLOWED),
                        denied(
                                "a positional that matches no rule",
                                "git",
                                List.of("log", "--oneline", "; rm -rf /"),
                                ReasonCode.ARGUMENT_NOT_ALLOWED),
                        denied(
                                "more positionals than rules",
                                "git",
                                List.of("show", "HEAD", "HEAD~1"),
                                ReasonCode.ARGUMENT_NOT_ALLOWED),
                        denied(
                                "tar --to-command runs a command",
                                "tar",
                                List.of("--to-command=touch " + m, "-f", "archive.tar"),
                                ReasonCode.ARGUMENT_NOT_ALLOWED),
                        denied(
                                "tar --checkpoint-action=exec runs a command",
                                "tar",
                                List.of("-t", "--checkpoint-action=exec=touch " + m, "-f", "archive.tar"),
                                ReasonCode.ARGUMENT_NOT_ALLOWED),
                        denied(
                                "a path argument outside the roots",
                                "tar",
                                List.of("-t", "-f", "../outside/x.tar"),
                                ReasonCode.ARGUMENT_NOT_ALLOWED),
                        denied(
                                "a path argument through a symlink to outside",
                                "tar",
                                List.of("-t", "-f", "link-out/x.tar"),
                                ReasonCode.ARGUMENT_NOT_ALLOWED),
                        denied(
                                "find -exec runs a command",
                                "find",
                                List.of("data", "-exec", "touch", m, ";"),
                                ReasonCode.ARGUMENT_NOT_ALLOWED),
                        denied(
                                "find over the whole filesystem",
                                "find",
                                List.of("/", "-name", "passwd"),
                                ReasonCode.ARGUMENT_NOT_ALLOWED),
                        denied(
                                "env would launch another program",
                                "env",
                                List.of("sh", "-c", "touch " + m),
                                ReasonCode.ARGUMENT_NOT_ALLOWED),
                        denied(
                                "more arguments than allowed",
                                "echo_args",
                                List.of("1", "2", "3", "4", "5"),
                                ReasonCode.ARGUMENT_NOT_ALLOWED),
                        denied(
                                "an argument longer than allowed",
                                "echo_args",
                                List.of("x".repeat(101)),
                                ReasonCode.ARGUMENT_NOT_ALLOWED),
                        denied(
                                "a NUL byte in an argument",
                                "echo_args",
                                List.of("a\u0000b"),
                                ReasonCode.ARGUMENT_NOT_ALLOWED),

                        // program path tricks
                        denied("a relative program path", "./git", List.of("status"), ReasonCode.COMMAND_NOT_ALLOWED),
                        denied(
                                "an absolute program path instead of the logical name",
                                "/usr/bin/git",
                                List.of("status"),
                                ReasonCode.COMMAND_NOT_ALLOWED),
                        denied(
                                "a shell that is not listed",
                                "sh",
                                List.of("-c", "touch " + m),
                                ReasonCode.COMMAND_NOT_ALLOWED),
                        denied(
                                "ssh with a ProxyCommand: not listed",
                                "ssh",
                                List.of("-o", "ProxyCommand=touch " + m, "x"),
                                ReasonCode.COMMAND_NOT_ALLOWED),
                        new Case(
                                "a binary swapped under its SHA-256 pin",
                                "echo_args",
                                List.of(),
                                Map.of(),
                                null,
                                ReasonCode.BINARY_CHANGED.name(),
                                t -> t.swapScript()),

                        // environment injection
                        envDenied("LD_PRELOAD", "echo_args", Map.of("LD_PRELOAD", "/tmp/evil.so")),
                        envDenied("a lower-case ld_preload", "echo_args", Map.of("ld_preload", "/tmp/evil.so")),
                        envDenied("GIT_SSH_COMMAND", "git", Map.of("GIT_SSH_COMMAND", "touch " + m)),
                        envDenied("NODE_OPTIONS", "echo_args", Map.of("NODE_OPTIONS", "--require /tmp/evil.js")),
                        envDenied("BASH_ENV", "echo_args", Map.of("BASH_ENV", "/tmp/evil.sh")),
                        envDenied("a PATH pointing at a hijack directory", "echo_args", Map.of("PATH", "{root}/evil")),
                        new Case(
                                "a listed variable passes",
                                "echo_args",
                                List.of(),
                                Map.of("LANG", "C.UTF-8"),
                                null,
                                "ok:LANG=C.UTF-8",
                                t -> {}),

                        // working directory
                        new Case(
                                "a working directory outside the roots",
                                "echo_args",
                                List.of(),
                                Map.of(),
                                "{outside}",
                                ReasonCode.CWD_OUTSIDE_ROOTS.name(),
                                t -> {}),
                        new Case(
                                "a working directory through a symlink to outside",
                                "echo_args",
                                List.of(),
                                Map.of(),
                                "link-out",
                                ReasonCode.CWD_OUTSIDE_ROOTS.name(),
                                t -> {}),
                        new Case(
                                "'..' out of the root as working directory",
                                "echo_args",
                                List.of(),
                                Map.of(),
                                "../outside",
                                ReasonCode.CWD_OUTSIDE_ROOTS.name(),
                                t -> {}))
                .map(Arguments::of);
    }

    private void swapScript() {
        try {
            Files.writeString(script, "#!/bin/sh\ntouch '" + marker + "'\n");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private String fill(String text) {
        return text.replace("{marker}", marker.toString())
                .replace("{outside}", outside.toString())
                .replace("{root}", root.toString());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void runsOnlyWhatThePolicyAllows(Case row) throws Exception {
        SecureExec exec = SecureExec.of(policy.build());
        row.before().accept(this);
        List<String> args = row.args().stream().map(this::fill).toList();
        Map<String, String> env = new java.util.HashMap<>();
        row.env().forEach((name, value) -> env.put(name, fill(value)));
        String cwd = row.cwd() == null ? null : fill(row.cwd());

        String expected =
                row.expected().startsWith("ok:") ? "ok:" + fill(row.expected().substring(3)) : row.expected();
        assertRun(exec, row.why(), row.program(), args, env, cwd, expected, marker);
    }

    /**
     * Runs {@code program} once on a fresh {@code exec} and asserts what came of it: for {@code
     * expected} {@code ok:<text>} a clean exit whose output contains the text, otherwise a denial
     * with that reason code and no process started; never the {@code marker}.
     */
    static void assertRun(
            SecureExec exec,
            String why,
            String program,
            List<String> args,
            Map<String, String> env,
            String cwd,
            String expected,
            Path marker) {
        SecureExec.Result[] result = new SecureExec.Result[1];
        Throwable thrown = catchThrowable(() -> result[0] = exec.run(program, args, env, cwd));

        if (expected.startsWith("ok:")) {
            assertThat(thrown).as(why).isNull();
            assertThat(result[0].exitCode()).as(why + ": " + result[0].stderr()).isZero();
            assertThat(result[0].stdout()).as(why).contains(expected.substring(3));
            assertThat(exec.startedCount()).isEqualTo(1);
        } else {
            assertThat(thrown).as(why).isInstanceOf(PolicyViolationException.class);
            assertThat(((PolicyViolationException) thrown).reason().name())
                    .as(why)
                    .isEqualTo(expected);
            assertThat(exec.startedCount()).as(why + ": no process started").isZero();
        }
        assertThat(marker)
                .as(why + ": nothing the arguments named was executed")
                .doesNotExist();
    }

    @Test
    void outputIsReadOnTheDedicatedReaderThreadsNotOnePerCallOrTheCommonPool() throws Exception {
        SecureExec exec = SecureExec.of(policy.build());
        Set<String> before = threadNames();
        for (int i = 0; i < 5; i++) {
            exec.run("env", List.of());
        }
        Set<String> created = threadNames();
        created.removeAll(before);
        created.removeIf(name -> name.startsWith("process reaper")); // the JDK's own, reused
        assertThat(threadNames()).anyMatch(name -> name.startsWith("mcp-secure-exec-output"));
        assertThat(created)
                .as("threads created by five runs")
                .allMatch(name -> name.startsWith("mcp-secure-exec-output"))
                .hasSizeLessThanOrEqualTo(2 + 2);
    }

    private static Set<String> threadNames() {
        Set<String> names = new java.util.HashSet<>();
        Thread.getAllStackTraces().keySet().forEach(thread -> names.add(thread.getName()));
        return names;
    }

    @Test
    void theEnvironmentStartsEmpty() throws Exception {
        SecureExec.Result result = SecureExec.of(policy.build()).run("env", List.of());
        assertThat(result.stdout().lines().toList())
                .containsExactlyInAnyOrder(
                        "PATH=/usr/local/bin:/usr/bin:/bin",
                        "LANG=" + System.getenv().getOrDefault("LANG", "?"))
                .as("HOME and every other server variable stay behind");
    }

    @Test
    void aTimeoutKillsTheWholeProcessTree() throws Exception {
        Path pids = tmp.resolve("pids");
        Path spawner = executable(
                root.resolve("bin/spawn.sh"),
                String.join(
                        "\n",
                        "#!/bin/sh",
                        "sleep 60 &",
                        "echo $! > '" + pids + ".child'",
                        "echo $$ > '" + pids + ".parent'",
                        "sleep 60",
                        ""));
        SecureExec exec = SecureExec.of(policy.program(
                        "spawn",
                        ProgramPolicy.builder(spawner)
                                .timeout(Duration.ofSeconds(1))
                                .build())
                .build());

        long start = System.nanoTime();
        Throwable thrown = catchThrowable(() -> exec.run("spawn", List.of()));
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(thrown).isInstanceOf(PolicyViolationException.class);
        assertThat(((PolicyViolationException) thrown).reason()).isEqualTo(ReasonCode.TIMEOUT);
        assertThat(took).isLessThan(Duration.ofSeconds(2));
        long parent = Long.parseLong(Files.readString(Path.of(pids + ".parent")).strip());
        long child = Long.parseLong(Files.readString(Path.of(pids + ".child")).strip());
        assertThat(dead(parent)).as("the program").isTrue();
        assertThat(dead(child)).as("its child").isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - start))
                .as("both gone within the timeout + 1 s")
                .isLessThan(Duration.ofSeconds(2));
    }

    /**
     * Whether {@code pid} runs no more: gone, or a zombie (dead, waiting for PID 1 to reap it;
     * Java's isAlive still counts those).
     */
    private static boolean dead(long pid) throws IOException {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state == 'Z' || state == 'X';
        } catch (NoSuchFileException e) {
            return true;
        }
    }

    @Test
    void outputBeyondTheCapIsCutAndMarked() throws Exception {
        Path chatty = executable(root.resolve("bin/chatty.sh"), "#!/bin/sh\nhead -c 100000 /dev/zero | tr '\\0' x\n");
        SecureExec exec = SecureExec.of(policy.program(
                        "chatty",
                        ProgramPolicy.builder(chatty).maxOutputBytes(1000).build())
                .build());

        SecureExec.Result result = exec.run("chatty", List.of());

        assertThat(result.stdout()).hasSize(1000);
        assertThat(result.stdoutTruncated()).isTrue();
        assertThat(result.stderrTruncated()).isFalse();
    }

    @Test
    void runsBeyondTheProcessCapAreRefused() throws Exception {
        Path slow = executable(root.resolve("bin/slow.sh"), "#!/bin/sh\nsleep 2\n");
        SecureExec exec =
                SecureExec.of(policy.program("slow", ProgramPolicy.builder(slow).build())
                        .maxConcurrentProcesses(1)
                        .build());

        CompletableFuture<SecureExec.Result> first = CompletableFuture.supplyAsync(() -> {
            try {
                return exec.run("slow", List.of());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (exec.startedCount() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThatThrownBy(() -> exec.run("slow", List.of()))
                .isInstanceOf(PolicyViolationException.class)
                .hasMessageContaining("CONCURRENCY_LIMITED");
        assertThat(first.get(10, TimeUnit.SECONDS).exitCode()).isZero();
    }

    @Test
    void shellsAndLaunchersAreRefusedUnlessTheirArgvIsRestricted() throws IOException {
        Path symlinkedShell = Files.createSymbolicLink(root.resolve("bin/tool"), Path.of("/bin/bash"));
        assertThatThrownBy(() -> SecureExec.of(policy.program(
                                "sh", ProgramPolicy.builder(Path.of("/bin/sh")).build())
                        .build()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is a shell or launcher");
        assertThatThrownBy(() -> SecureExec.of(SecurityPolicy.builder()
                        .program("tool", ProgramPolicy.builder(symlinkedShell).build())
                        .build()))
                .as("a symlinked shell is still a shell")
                .hasMessageContaining("-> /usr/bin/bash");
        assertThat(SecureExec.of(SecurityPolicy.builder()
                        .program(
                                "version",
                                ProgramPolicy.builder(Path.of("/bin/bash"))
                                        .flags("--version")
                                        .maxArgs(1)
                                        .arg(new ArgRule.Literal("never"))
                                        .build())
                        .build()))
                .isNotNull();
    }

    @Test
    void programsMustExistAndBeExecutableAtStart() throws IOException {
        Path notExecutable = Files.writeString(root.resolve("plain.txt"), "x");
        assertThatThrownBy(() -> SecureExec.of(SecurityPolicy.builder()
                        .program(
                                "missing",
                                ProgramPolicy.builder(root.resolve("missing")).build())
                        .build()))
                .hasMessageContaining("does not exist or is not an executable file");
        assertThatThrownBy(() -> SecureExec.of(SecurityPolicy.builder()
                        .program("plain", ProgramPolicy.builder(notExecutable).build())
                        .build()))
                .hasMessageContaining("not an executable file");
    }
}
