package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each sample answers {@code tools/list} and one allowed call from the MCP Inspector CLI
 * ({@code npx -y @modelcontextprotocol/inspector@2.12 --cli …}), the commands the README gives.
 * Needs Node.js with npx and access to the npm registry; fails with that hint otherwise.
 */
class InspectorIT {

    static final String INSPECTOR = "@modelcontextprotocol/inspector@2.12";

    @TempDir
    Path tmp;

    @Test
    void theDemoServer() throws Exception {
        List<String> server = server("DemoServer", policy("demo.yaml"));
        assertThat(inspect(server, "--method", "tools/list")).contains("\"echo\"", "\"show_secret\"");
        assertThat(inspect(server, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", "text=hello"))
                .contains("hello")
                .doesNotContain("\"isError\": true");
        assertCalled("demo", "echo");
    }

    @Test
    void theFilesystemServer() throws Exception {
        Path project = Files.createDirectories(tmp.resolve("project"));
        Files.createDirectories(tmp.resolve("scratch"));
        Files.writeString(project.resolve("hello.txt"), "hello from the inspector\n");
        List<String> server = server("FilesystemServer", policy("filesystem.yaml"));
        assertThat(inspect(server, "--method", "tools/list")).contains("\"read_file\"", "\"list_directory\"");
        assertThat(inspect(
                        server, "--method", "tools/call", "--tool-name", "read_file", "--tool-arg", "path=hello.txt"))
                .contains("hello from the inspector");
        assertCalled("filesystem", "read_file");
    }

    @Test
    void theGitServer() throws Exception {
        Path repo = Files.createDirectories(tmp.resolve("repo"));
        run(List.of("/usr/bin/git", "-C", repo.toString(), "init", "-q"));
        run(List.of(
                "/usr/bin/git",
                "-C",
                repo.toString(),
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.invalid",
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                "inspected commit"));
        List<String> server = server("GitServer", policy("git.yaml"));
        assertThat(inspect(server, "--method", "tools/list")).contains("\"git_log\"", "\"git_status\"");
        assertThat(inspect(server, "--method", "tools/call", "--tool-name", "git_log"))
                .contains("inspected commit");
        assertCalled("git", "git_log");
    }

    @Test
    void theHttpApiServer() throws Exception {
        try (SampleApi api = SampleApi.start(0)) {
            Path policy = SamplePolicy.copy(
                    tmp, "http-api.yaml", text -> text.replace("port: " + SampleApi.DEFAULT_PORT, "port: " + api.port())
                            .replace("/tmp/mcp-secure-samples", tmp.toString()));
            List<String> server = server("HttpApiServer", policy);
            assertThat(inspect(server, "--method", "tools/list")).contains("\"fetch_json\"");
            assertThat(inspect(
                            server,
                            "--method",
                            "tools/call",
                            "--tool-name",
                            "fetch_json",
                            "--tool-arg",
                            "url=http://127.0.0.1:" + api.port() + "/v1/weather?city=Oslo"))
                    .contains("Oslo")
                    .contains("sunny");
        }
        assertCalled("http-api", "fetch_json");
    }

    /** The sample's audit file (its policy's audit.file, moved into tmp) holds the one call, allowed. */
    private void assertCalled(String sample, String tool) throws IOException {
        assertThat(AuditRecords.calls(AuditRecords.read(tmp.resolve("audit").resolve(sample + ".jsonl"))))
                .extracting(line -> line.get("tool") + " " + line.get("reason"))
                .containsExactly(tool + " ALLOWED");
    }

    private Path policy(String name) throws IOException {
        return SamplePolicy.copy(tmp, name, text -> text.replace("/tmp/mcp-secure-samples", tmp.toString()));
    }

    private static List<String> server(String mainClass, Path policy) {
        return PythonDriver.command("dev.mcpsecure.samples." + mainClass, "--policy", policy.toString());
    }

    private String inspect(List<String> server, String... method) throws Exception {
        List<String> command = new ArrayList<>(List.of("npx", "-y", INSPECTOR, "--cli"));
        command.addAll(server);
        command.addAll(List.of(method));
        return run(command);
    }

    private String run(List<String> command) throws Exception {
        Path out = tmp.resolve("out-" + System.nanoTime());
        Process process;
        try {
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .start();
        } catch (IOException e) {
            throw new AssertionError(
                    "cannot run " + command.get(0) + ": " + e.getMessage()
                            + "\nInstall hint: Node.js 18 or newer with npx and access to the npm registry"
                            + " (the Inspector CLI asks for Node 22; Node 20 works with engine warnings)",
                    e);
        }
        process.getOutputStream().close();
        boolean finished = process.waitFor(3, TimeUnit.MINUTES);
        String output = Files.readString(out, StandardCharsets.UTF_8);
        if (!finished) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
        assertThat(finished)
                .as("%s finished in 3 minutes:\n%s", command.get(0), output)
                .isTrue();
        assertThat(process.exitValue())
                .as("%s exit code:\n%s", String.join(" ", command), output)
                .isZero();
        return output;
    }
}
