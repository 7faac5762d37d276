package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.core.Lockfile;
import dev.mcpsecure.core.ToolPins;
import dev.mcpsecure.testkit.PythonMcpClient;
import io.modelcontextprotocol.json.TypeRef;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tools added while the server runs, watched with the official Python MCP client: only the one
 * that matches its pin in the lockfile becomes listed and callable; a drifted one, an unpinned one,
 * one added with the SDK's own {@code addTool}, and a start-up tool that {@code addTool} replaced
 * are never listed and never run.
 */
class RuntimeToolsIT {

    private static final Path DRIVER =
            Path.of("src", "test", "python", "drive_steps.py").toAbsolutePath();
    private static final String CLASSPATH =
            Path.of("target", "test-classes").toAbsolutePath() + File.pathSeparator + PythonDriver.JAR;

    @TempDir
    Path dir;

    private List<String> command(String... args) {
        assertThat(PythonDriver.JAR)
                .as("run './mvnw verify': the IT needs the packaged samples jar")
                .exists();
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                CLASSPATH,
                RuntimeToolsServer.class.getName()));
        command.addAll(List.of(args));
        return command;
    }

    @Test
    @SuppressWarnings("unchecked")
    void onlyAPinnedUnchangedToolAddedAtRuntimeBecomesVisible() throws Exception {
        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, """
                server:
                  name: runtime-tools-fixture
                tools:
                  - name: echo
                  - name: load_plugins
                  - name: word_count
                  - name: shout
                  - name: delete_everything
                  - name: raw_backdoor
                pinning:
                  lockfile: runtime-tools.lock
                """);
        Process lock = new ProcessBuilder(command("lock", "--policy", policy.toString()))
                .redirectErrorStream(true)
                .start();
        String lockOutput = new String(lock.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(lock.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(lock.exitValue()).as(lockOutput).isZero();
        assertThat(Lockfile.read(dir.resolve("runtime-tools.lock")).tools())
                .extracting(Lockfile.ToolPin::name)
                .as("start-up tools and the declared plugins are pinned; nothing else")
                .containsExactly("echo", "load_plugins", "shout", "word_count");

        List<Map<String, Object>> steps = List.of(
                Map.of("list", true),
                Map.of("tool", "load_plugins"),
                Map.of("list", true),
                Map.of("tool", "word_count", "arguments", Map.of("text", "one two three")),
                Map.of("tool", "shout", "arguments", Map.of("text", "hi")),
                Map.of("tool", "delete_everything"),
                Map.of("tool", "raw_backdoor"),
                Map.of("tool", "echo", "arguments", Map.of("text", "hi")));
        List<String> server = command("--policy", policy.toString());
        Path auditFile = dir.resolve("audit.jsonl");
        Map<String, Object> plan = Map.of(
                "command",
                server.get(0),
                "args",
                server.subList(1, server.size()),
                "env",
                Map.of(AuditRecords.ENV, auditFile.toString()),
                "steps",
                steps);
        PythonMcpClient.Result result =
                PythonMcpClient.run(DRIVER, List.of(PythonDriver.JSON.writeValueAsString(plan)), Duration.ofMinutes(2));
        assertThat(result.exitCode())
                .as("the Python client failed:\n%s", result.stderr())
                .isZero();
        Map<String, Object> report =
                PythonDriver.JSON.readValue(result.stdout(), new TypeRef<Map<String, Object>>() {});
        List<Map<String, Object>> seen = (List<Map<String, Object>>) report.get("steps");

        assertThat((Map<String, Object>) seen.get(0).get("tools")).containsOnlyKeys("echo", "load_plugins");
        assertThat(PythonDriver.text(seen.get(1)))
                .contains(
                        "\"word_count\":\"ALLOWED\"",
                        "\"shout\":\"TOOL_DEFINITION_CHANGED\"",
                        "\"delete_everything\":\"TOOL_DEFINITION_CHANGED\"");
        Map<String, Object> after = (Map<String, Object>) seen.get(2).get("tools");
        assertThat(after)
                .as(
                        "the pinned plugin is listed; the drifted, unpinned and SDK-added ones are not, nor the replaced echo")
                .containsOnlyKeys("load_plugins", "word_count");
        assertThat(after.get("word_count"))
                .as("the listed tool carries the pin a client can check")
                .isEqualTo(ToolPins.hash(RuntimeToolsServer.wordCount().tool()));
        assertThat(PythonDriver.text(seen.get(3))).isEqualTo("3");
        PythonDriver.assertDenied(seen.get(4), "TOOL_DEFINITION_CHANGED");
        PythonDriver.assertDenied(seen.get(5), "TOOL_DEFINITION_CHANGED");
        PythonDriver.assertDenied(seen.get(6), "TOOL_NOT_ALLOWED");
        PythonDriver.assertDenied(seen.get(7), "TOOL_DEFINITION_CHANGED");
        assertThat(result.stdout()).doesNotContain("BACKDOOR RAN", "RAW ECHO RAN", "deleted");
        assertThat(((Number) report.get("listChanged")).intValue())
                .as("the client heard of the changes")
                .isPositive();
        List<Map<String, Object>> audit = AuditRecords.read(auditFile);
        assertThat(AuditRecords.ofKind(audit, "surface"))
                .as("what the surface refused or took in while the server ran")
                .extracting(line -> line.get("tool") + " " + line.get("reason"))
                .contains(
                        "shout TOOL_DEFINITION_CHANGED",
                        "delete_everything TOOL_DEFINITION_CHANGED",
                        "raw_backdoor TOOL_DEFINITION_CHANGED",
                        "echo TOOL_DEFINITION_CHANGED",
                        "word_count ALLOWED");
        assertThat(AuditRecords.calls(audit))
                .as("one call record per call, in order")
                .extracting(line -> line.get("tool") + " " + line.get("reason"))
                .containsExactly(
                        "load_plugins ALLOWED",
                        "word_count ALLOWED",
                        "shout TOOL_DEFINITION_CHANGED",
                        "delete_everything TOOL_DEFINITION_CHANGED",
                        "raw_backdoor TOOL_NOT_ALLOWED",
                        "echo TOOL_DEFINITION_CHANGED");
        assertThat(result.stderr()).doesNotContain(" dev.mcpsecure.audit ");
    }
}
