package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The filesystem sample, started as a real process from the packaged jar with a policy over
 * temporary roots, driven by the official Python MCP client.
 */
class FilesystemServerIT {

    @TempDir
    Path tmp;

    @Test
    void allowedReadsWorkAndEscapesAreDeniedWithTheirReasonCodes() throws IOException {
        Path project = Files.createDirectories(tmp.resolve("project"));
        Path scratch = Files.createDirectories(tmp.resolve("scratch"));
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(project.resolve("README.md"), "# hello from the project");
        Files.writeString(project.resolve(".env"), "TOKEN=do-not-read");
        Files.writeString(outside.resolve("secret.txt"), "OUTSIDE-SECRET");
        Files.createSymbolicLink(project.resolve("escape"), outside);
        Path policy = tmp.resolve("policy.yaml");
        Files.writeString(
                policy,
                String.join(
                        "\n",
                        "tools:",
                        "  - name: read_file",
                        "  - name: list_directory",
                        "  - name: search_files",
                        "  - name: write_file",
                        "    risks: [FS_WRITE]",
                        "filesystem:",
                        "  roots:",
                        "    - path: " + project,
                        "    - path: " + scratch,
                        "      access: READ_WRITE",
                        "  base: " + project,
                        ""));

        PythonDriver.Run run = PythonDriver.drive(
                PythonDriver.command("dev.mcpsecure.samples.FilesystemServer", "--policy", policy.toString()),
                "none",
                List.of(
                        new PythonDriver.Call("read_file", Map.of("path", "README.md")),
                        new PythonDriver.Call("read_file", Map.of("path", "../outside/secret.txt")),
                        new PythonDriver.Call("read_file", Map.of("path", project + "/escape/secret.txt")),
                        new PythonDriver.Call("read_file", Map.of("path", ".env")),
                        new PythonDriver.Call("write_file", Map.of("path", "README.md", "content", "pwned")),
                        new PythonDriver.Call("write_file", Map.of("path", scratch + "/note.txt", "content", "kept")),
                        new PythonDriver.Call("list_directory", Map.of("path", project.toString())),
                        new PythonDriver.Call("search_files", Map.of("path", project.toString(), "pattern", "READ"))));

        List<Map<String, Object>> calls = run.calls();
        assertThat(PythonDriver.text(calls.get(0))).isEqualTo("# hello from the project");
        PythonDriver.assertDenied(calls.get(1), "PATH_OUTSIDE_ROOTS");
        PythonDriver.assertDenied(calls.get(2), "PATH_SYMLINK_ESCAPE");
        PythonDriver.assertDenied(calls.get(3), "PATH_SENSITIVE");
        PythonDriver.assertDenied(calls.get(4), "PATH_READ_ONLY");
        assertThat(PythonDriver.text(calls.get(5))).isEqualTo("written");
        assertThat(PythonDriver.text(calls.get(6)))
                .contains("[file] README.md", "[link] escape (leaves the roots; not followed)")
                .doesNotContain(".env");
        assertThat(PythonDriver.text(calls.get(7))).isEqualTo(project + "/README.md");

        assertThat(run.stdout()).doesNotContain("OUTSIDE-SECRET", "do-not-read", outside.toString());
        assertThat(Files.readString(project.resolve("README.md"))).isEqualTo("# hello from the project");
        assertThat(Files.readString(scratch.resolve("note.txt"))).isEqualTo("kept");
        assertThat(run.callRecords())
                .as("one call record per call, in order")
                .extracting(line -> line.get("tool") + " " + line.get("reason"))
                .containsExactly(
                        "read_file ALLOWED",
                        "read_file PATH_OUTSIDE_ROOTS",
                        "read_file PATH_SYMLINK_ESCAPE",
                        "read_file PATH_SENSITIVE",
                        "write_file PATH_READ_ONLY",
                        "write_file ALLOWED",
                        "list_directory ALLOWED",
                        "search_files ALLOWED");
        // each call's file decision is an effect of that call: a refused call's effect gives its reason
        assertFirstEffects(
                run,
                "read_file",
                "file.read",
                "ALLOWED",
                "PATH_OUTSIDE_ROOTS",
                "PATH_SYMLINK_ESCAPE",
                "PATH_SENSITIVE");
        assertFirstEffects(run, "write_file", "file.write", "PATH_READ_ONLY", "ALLOWED");
        assertFirstEffects(run, "list_directory", "file.list", "ALLOWED");
        AuditRecords.assertEffectsCarryTheirCall(run.audit(), "file.read", "file.list", "file.write");
    }

    /** The first effect of action {@code action} of each call of {@code tool} has {@code reasons}, in order. */
    private static void assertFirstEffects(PythonDriver.Run run, String tool, String action, String... reasons) {
        List<Object> first = run.callRecords().stream()
                .filter(call -> tool.equals(call.get("tool")))
                .map(call -> AuditRecords.effectsOf(run.audit(), call.get("callId")).stream()
                        .filter(effect -> action.equals(effect.get("action")))
                        .findFirst()
                        .map(effect -> effect.get("reason"))
                        .orElse("no " + action + " effect"))
                .toList();
        assertThat(first).as("%s effects of the %s calls", action, tool).containsExactly((Object[]) reasons);
    }

    @Test
    void failuresTheClientCausedAreAnsweredWithoutJavaExceptionText() throws IOException {
        Path project = Files.createDirectories(tmp.resolve("project"));
        Path scratch = Files.createDirectories(tmp.resolve("scratch"));
        Files.createDirectories(project.resolve("docs"));
        Files.writeString(project.resolve("hello.txt"), "hello");
        Path policy = SamplePolicy.copy(
                tmp, "filesystem.yaml", text -> text.replace("/tmp/mcp-secure-samples", tmp.toString()));

        PythonDriver.Run run = PythonDriver.drive(
                PythonDriver.command("dev.mcpsecure.samples.FilesystemServer", "--policy", policy.toString()),
                "none",
                List.of(
                        new PythonDriver.Call("read_file", Map.of("path", "missing.txt")),
                        new PythonDriver.Call("read_file", Map.of("path", "docs")),
                        new PythonDriver.Call("list_directory", Map.of("path", "hello.txt")),
                        new PythonDriver.Call("search_files", Map.of("path", "missing", "pattern", "x")),
                        new PythonDriver.Call(
                                "write_file", Map.of("path", scratch + "/missing/note.txt", "content", "x"))));

        assertThat(run.calls())
                .extracting(PythonDriver::errorText)
                .containsExactly(
                        "no such file or directory: missing.txt",
                        "'docs' is not a regular file",
                        "not a directory: hello.txt",
                        "no such file or directory: missing",
                        "no such file or directory: " + scratch + "/missing/note.txt");
        // stdout is the client's JSON report, where a stack frame's tab is written as backslash-t
        assertThat(run.stdout()).doesNotContain("Exception", "java.", "\\tat ", project.toString());
        assertThat(run.callRecords())
                .extracting(line -> line.get("tool"))
                .containsExactly("read_file", "read_file", "list_directory", "search_files", "write_file");
        AuditRecords.assertEffectsCarryTheirCall(run.audit(), "file.read");
        assertThat(run.audit().toString())
                .as("the audit records name no Java exception either")
                .doesNotContain("Exception", "java.", "\tat ");
    }
}
