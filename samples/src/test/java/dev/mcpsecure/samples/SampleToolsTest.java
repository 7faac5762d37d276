package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A sample tool's I/O failure reaches the client as a plain sentence: no Java class name, no
 * stack text, and no path the client did not send.
 */
class SampleToolsTest {

    private static final String HOST = "/srv/host-only/secret-place";

    static Stream<Arguments> fileFailures() {
        return Stream.of(
                Arguments.of(new NoSuchFileException("notes/a.txt"), "no such file or directory: notes/a.txt"),
                Arguments.of(new NotDirectoryException("notes/a.txt"), "not a directory: notes/a.txt"),
                Arguments.of(new AccessDeniedException("notes/a.txt"), "access denied: notes/a.txt"),
                Arguments.of(new FileAlreadyExistsException("notes/a.txt"), "already exists: notes/a.txt"),
                Arguments.of(new DirectoryNotEmptyException("notes/a.txt"), "directory not empty: notes/a.txt"),
                Arguments.of(new NotLinkException("notes/a.txt"), "not a symbolic link: notes/a.txt"),
                Arguments.of(new FileSystemLoopException("notes/a.txt"), "symbolic link loop: notes/a.txt"),
                Arguments.of(
                        new FileSystemException("notes/a.txt", null, "Read-only file system"),
                        "cannot access (Read-only file system): notes/a.txt"),
                Arguments.of(new FileSystemException("notes/a.txt"), "cannot access: notes/a.txt"),
                // a path below the one sent, as search_files descends
                Arguments.of(
                        new NoSuchFileException("notes/a.txt/deeper"), "no such file or directory: notes/a.txt/deeper"),
                // a path the client did not send (a resolved host path): the client's is named instead
                Arguments.of(new AccessDeniedException(HOST + "/notes/a.txt"), "access denied: notes/a.txt"),
                Arguments.of(new NoSuchFileException(null), "no such file or directory: notes/a.txt"),
                Arguments.of(
                        new FileSystemException("notes/a.txt", null, "sun.nio.fs.UnixException: boom"),
                        "cannot access: notes/a.txt"));
    }

    @ParameterizedTest
    @MethodSource("fileFailures")
    void fileFailuresNameWhatHappenedAndThePathAsSent(IOException failure, String expected) {
        String text = failedWith(failure, Map.of("path", "notes/a.txt"));

        assertThat(text).isEqualTo(expected);
        assertClientSafe(text);
    }

    @Test
    void aFileFailureOfACallWithoutAPathNamesNoPath() {
        String text = failedWith(new NoSuchFileException(HOST + "/x"), Map.of());

        assertThat(text).isEqualTo("no such file or directory: the requested path");
    }

    @Test
    void otherFailuresKeepAPlainMessageAndDropOneThatNamesAClass() {
        assertThat(failedWith(new IOException("'docs' is not a regular file"), Map.of()))
                .isEqualTo("'docs' is not a regular file");
        assertThat(failedWith(new ConnectException("Failed to connect to /127.0.0.1:8089"), Map.of()))
                .isEqualTo("Failed to connect to /127.0.0.1:8089");
        assertThat(failedWith(new SocketTimeoutException("timeout"), Map.of())).isEqualTo("timed out: timeout");
        assertThat(failedWith(new UnknownHostException("api.example"), Map.of()))
                .isEqualTo("unknown host: api.example");
        for (IOException leaky : List.of(
                new IOException(new ConnectException("Connection refused")),
                new IOException("unexpected end of stream\n\tat okhttp3.internal.Http1.read(Http1.java:1)"),
                new IOException("wrapped: IllegalStateException: " + HOST),
                new IOException((String) null),
                new SocketTimeoutException())) {
            String text = failedWith(leaky, Map.of());
            assertClientSafe(text);
            assertThat(text).isIn("input/output error", "timed out");
        }
    }

    private static String failedWith(IOException failure, Map<String, Object> arguments) {
        CallToolResult result = SampleTools.tool("t", "A tool.", List.of(), List.of("path"), request -> {
                    throw failure;
                })
                .callHandler()
                .apply(null, CallToolRequest.builder("t").arguments(arguments).build());
        assertThat(result.isError()).isTrue();
        return ((McpSchema.TextContent) result.content().get(0)).text();
    }

    private static void assertClientSafe(String text) {
        assertThat(text).doesNotContain("Exception", "java.", "sun.", "\tat ", "\n", HOST);
    }
}
