package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelcontextprotocol.json.TypeRef;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The demo server as a process from the packaged jar, spoken to in raw JSON-RPC lines (so a test
 * can send what no SDK client would, and read the process's own figures), already initialized;
 * its audit records go to a fresh audit file ({@link #audit()}).
 */
final class RawStdioServer implements AutoCloseable {

    final Process process;
    private final OutputStream stdin;
    private final BufferedReader stdout;
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private final Thread drain;
    private final Path auditFile;

    private RawStdioServer(Path policy) throws IOException {
        auditFile = AuditRecords.freshFile();
        ProcessBuilder builder = new ProcessBuilder(
                PythonDriver.command("dev.mcpsecure.samples.DemoServer", "--policy", policy.toString()));
        builder.environment().put(AuditRecords.ENV, auditFile.toString());
        process = builder.start();
        drain = PythonDriver.drain(process.getErrorStream(), stderr);
        stdin = process.getOutputStream();
        stdout = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    /** Starts the demo server under {@code policy} and completes the initialize handshake. */
    static RawStdioServer start(Path policy) throws IOException {
        RawStdioServer server = new RawStdioServer(policy);
        server.send("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                + "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"raw\",\"version\":\"1\"}}}");
        assertThat(server.read().get("id")).isEqualTo(0);
        server.send("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
        return server;
    }

    /** Sends {@code line} (bytes, without the newline) and a newline. */
    void send(byte[] line) throws IOException {
        stdin.write(line);
        stdin.write('\n');
        stdin.flush();
    }

    void send(String line) throws IOException {
        send(line.getBytes(StandardCharsets.UTF_8));
    }

    /** The next line the server writes. */
    String readLine() throws IOException {
        String line = stdout.readLine();
        assertThat(line).as("the server answered before closing stdout").isNotNull();
        return line;
    }

    /** The next line the server writes, as JSON. */
    Map<String, Object> read() throws IOException {
        return PythonDriver.JSON.readValue(readLine(), new TypeRef<Map<String, Object>>() {});
    }

    /** Closes stdin and waits for the process to exit; returns its exit code. */
    int closeStdin() throws IOException, InterruptedException {
        stdin.close();
        assertThat(process.waitFor(20, TimeUnit.SECONDS))
                .as("exits when stdin closes")
                .isTrue();
        drain.join(10_000);
        return process.exitValue();
    }

    /** What the server wrote to stderr (complete after {@link #closeStdin}). */
    String stderr() {
        return stderr.toString(StandardCharsets.UTF_8);
    }

    /** Every record of the server's audit file, read strictly (complete after {@link #closeStdin}). */
    List<Map<String, Object>> audit() throws IOException {
        return AuditRecords.read(auditFile);
    }

    @Override
    public void close() throws IOException {
        process.destroyForcibly();
        Files.deleteIfExists(auditFile);
        Files.deleteIfExists(auditFile.getParent());
    }
}
