package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The git sample, started as a real process from the packaged jar with a policy over a temporary
 * repository, driven by the official Python MCP client: allowed subcommands work, injection
 * attempts are denied with their reason code and leave no marker.
 */
class GitServerIT {

    @TempDir
    Path tmp;

    @Test
    void allowedSubcommandsWorkAndInjectionIsDenied() throws Exception {
        Path repo = Files.createDirectories(tmp.resolve("repo"));
        Path marker = tmp.resolve("marker");
        git(repo, "init", "-q");
        Files.writeString(repo.resolve("README.md"), "hello");
        git(repo, "add", "README.md");
        git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "first commit");
        Path policy = SamplePolicy.copy(
                tmp, "git.yaml", text -> text.replace("/tmp/mcp-secure-samples/repo", repo.toString()));

        PythonDriver.Run run = PythonDriver.drive(
                PythonDriver.command("dev.mcpsecure.samples.GitServer", "--policy", policy.toString()),
                "none",
                List.of(
                        new PythonDriver.Call("git_log", Map.of()),
                        new PythonDriver.Call("git_status", Map.of()),
                        new PythonDriver.Call("git_show", Map.of("rev", "HEAD")),
                        new PythonDriver.Call("git_log", Map.of("rev", "--upload-pack=touch " + marker)),
                        new PythonDriver.Call("git_log", Map.of("count", "--output=" + marker)),
                        new PythonDriver.Call("git_show", Map.of("rev", "HEAD; touch " + marker)),
                        new PythonDriver.Call("git_diff", Map.of("rev", "$(touch " + marker + ")"))));

        List<Map<String, Object>> calls = run.calls();
        assertThat(PythonDriver.text(calls.get(0))).contains("first commit");
        assertThat(PythonDriver.text(calls.get(1))).startsWith("## ");
        assertThat(PythonDriver.text(calls.get(2))).contains("README.md");
        for (Map<String, Object> denied : calls.subList(3, 7)) {
            PythonDriver.assertDenied(denied, "ARGUMENT_NOT_ALLOWED");
        }
        assertThat(marker).as("no injected command ran").doesNotExist();
        assertThat(run.callRecords())
                .as("one call record per call, in order")
                .extracting(line -> line.get("tool") + " " + line.get("reason"))
                .containsExactly(
                        "git_log ALLOWED",
                        "git_status ALLOWED",
                        "git_show ALLOWED",
                        "git_log ARGUMENT_NOT_ALLOWED",
                        "git_log ARGUMENT_NOT_ALLOWED",
                        "git_show ARGUMENT_NOT_ALLOWED",
                        "git_diff ARGUMENT_NOT_ALLOWED");
        // each call's command is one process effect of that call, refused or run
        for (Map<String, Object> call : run.callRecords()) {
            assertThat(AuditRecords.effectsOf(run.audit(), call.get("callId")))
                    .as("the process effect of %s", call)
                    .singleElement()
                    .satisfies(effect -> {
                        assertThat(effect.get("action")).isEqualTo("process");
                        assertThat(effect.get("reason")).isEqualTo(call.get("reason"));
                    });
        }
        AuditRecords.assertEffectsCarryTheirCall(run.audit(), "process");
    }

    private static void git(Path dir, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("/usr/bin/git"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        String output = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0)
                .as(output)
                .isTrue();
    }
}
