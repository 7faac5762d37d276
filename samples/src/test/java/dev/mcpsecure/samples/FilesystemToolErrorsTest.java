package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.core.PolicyLoader;
import dev.mcpsecure.core.SecureMcpServer;
import dev.mcpsecure.testkit.InMemoryTransport;
import dev.mcpsecure.testkit.RecordingAuditSink;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The filesystem sample's tools, called through the secured server in one JVM, answer failures
 * the client caused (a missing file, a directory where a file belongs and so on) with a plain
 * sentence naming the path as the client sent it: no Java exception class, no {@code java.}
 * package, no stack text, no resolved host path.
 */
class FilesystemToolErrorsTest {

    @TempDir
    Path tmp;

    private Path project;
    private Path scratch;
    private McpSyncServer server;
    private McpSyncClient client;

    @BeforeEach
    void start() throws IOException {
        project = Files.createDirectories(tmp.resolve("project"));
        scratch = Files.createDirectories(tmp.resolve("scratch"));
        Files.createDirectories(project.resolve("docs"));
        Files.writeString(project.resolve("hello.txt"), "hello");
        Files.createDirectories(scratch.resolve("notes"));
        Path policy = SamplePolicy.copy(
                tmp, "filesystem.yaml", text -> text.replace("/tmp/mcp-secure-samples", tmp.toString()));
        SecureMcpServer.Builder builder =
                SecureMcpServer.builder(PolicyLoader.load(policy)).auditSink(new RecordingAuditSink());
        FilesystemServer.register(builder);
        InMemoryTransport transport = InMemoryTransport.create();
        server = builder.build(transport.serverProvider()).sync();
        client = McpClient.sync(transport.clientTransport())
                .requestTimeout(Duration.ofSeconds(20))
                .build();
        client.initialize();
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    @Test
    void aMissingFileIsNamedAsTheClientSentIt() {
        assertThat(failure("read_file", Map.of("path", "missing.txt")))
                .isEqualTo("no such file or directory: missing.txt");
        assertThat(failure("read_file", Map.of("path", "docs/missing/deeper.txt")))
                .isEqualTo("no such file or directory: docs/missing/deeper.txt");
        assertThat(failure("list_directory", Map.of("path", "missing")))
                .isEqualTo("no such file or directory: missing");
        assertThat(failure("search_files", Map.of("path", "missing", "pattern", "x")))
                .isEqualTo("no such file or directory: missing");
        assertThat(failure("write_file", Map.of("path", scratch + "/missing/note.txt", "content", "x")))
                .isEqualTo("no such file or directory: " + scratch + "/missing/note.txt");
    }

    @Test
    void aDirectoryWhereAFileBelongsAndAFileWhereADirectoryBelongs() {
        assertThat(failure("read_file", Map.of("path", "docs"))).isEqualTo("'docs' is not a regular file");
        assertThat(failure("read_file", Map.of("path", "."))).isEqualTo("'.' is not a regular file");
        assertThat(failure("write_file", Map.of("path", scratch + "/notes", "content", "x")))
                .isEqualTo("'" + scratch + "/notes' is not a regular file");
        assertThat(failure("list_directory", Map.of("path", "hello.txt"))).isEqualTo("not a directory: hello.txt");
    }

    @Test
    void noFailureTextNamesAJavaClassOrAHostPath() {
        String[] texts = {
            failure("read_file", Map.of("path", "missing.txt")),
            failure("read_file", Map.of("path", "docs")),
            failure("read_file", Map.of("path", "hello.txt/inside")),
            failure("list_directory", Map.of("path", "hello.txt")),
            failure("list_directory", Map.of("path", "missing")),
            failure("search_files", Map.of("path", "hello.txt", "pattern", "x")),
            failure("write_file", Map.of("path", scratch + "/missing/note.txt", "content", "x")),
            failure("write_file", Map.of("path", scratch + "/notes", "content", "x")),
        };
        for (String text : texts) {
            assertThat(text)
                    .doesNotContain("Exception", "java.", "\tat ", "Error")
                    .doesNotContain(project.toString());
        }
    }

    private String failure(String tool, Map<String, Object> arguments) {
        CallToolResult result = client.callTool(
                McpSchema.CallToolRequest.builder(tool).arguments(arguments).build());
        String text = result.content().stream()
                .filter(content -> content instanceof McpSchema.TextContent)
                .map(content -> ((McpSchema.TextContent) content).text())
                .collect(Collectors.joining("\n"));
        assertThat(result.isError())
                .as("%s %s answered %s", tool, arguments, text)
                .isTrue();
        return text;
    }
}
