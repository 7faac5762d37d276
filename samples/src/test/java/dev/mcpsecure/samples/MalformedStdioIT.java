package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The stdio launcher, as a real process (the demo server from the packaged jar), fed one malformed
 * line after another: each gets its JSON-RPC error, each is audited as MALFORMED_MESSAGE, and
 * the next valid call still succeeds on the same process.
 */
class MalformedStdioIT {

    private static final Path POLICY = Path.of("policies", "demo.yaml").toAbsolutePath();

    /**
     * One malformed input (the bytes of one line, newline excluded) and what must come back.
     *
     * @param id the id the error must carry ({@code null}: JSON null)
     */
    private record Row(String why, byte[] line, int code, Object id) {
        static Row of(String why, String line, int code, Object id) {
            return new Row(why, line.getBytes(StandardCharsets.UTF_8), code, id);
        }
    }

    private static final List<Row> ROWS = List.of(
            Row.of("text that is not JSON", "hello, server", -32700, null),
            new Row(
                    "invalid UTF-8 (a lone continuation byte, an overlong form)",
                    new byte[] {'{', (byte) 0x80, (byte) 0xC0, (byte) 0xAF, '}'},
                    -32700,
                    null),
            Row.of("an empty line", "", -32700, null),
            Row.of("a line of blanks", "   \t ", -32700, null),
            Row.of("truncated JSON", "{\"jsonrpc\":\"2.0\",\"id\":13,", -32700, null),
            Row.of("JSON that is not an object", "42", -32600, null),
            Row.of(
                    "a batch, which MCP does not have",
                    "[{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"}]",
                    -32600,
                    null),
            Row.of("no jsonrpc member", "{\"id\":7,\"method\":\"ping\"}", -32600, 7),
            Row.of("neither method nor result", "{\"jsonrpc\":\"2.0\",\"id\":\"eight\"}", -32600, "eight"),
            Row.of(
                    "an id that is an object",
                    "{\"jsonrpc\":\"2.0\",\"id\":{\"x\":1},\"method\":\"ping\"}",
                    -32600,
                    null),
            Row.of(
                    "params that are not an object",
                    "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"tools/call\",\"params\":\"oops\"}",
                    -32600,
                    12),
            Row.of(
                    "a method the server does not know",
                    "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"no/such/method\"}",
                    -32601,
                    10),
            new Row("a line over the 4 MiB default limit", oversized(), -32600, null));

    private static byte[] oversized() {
        byte[] line = new byte[(4 << 20) + 4096];
        Arrays.fill(line, (byte) 'a');
        line[0] = '"';
        return line;
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyMalformedLineGetsAnErrorAndTheServerKeepsServing() throws Exception {
        String stderr;
        try (RawStdioServer server = RawStdioServer.start(POLICY)) {
            for (Row row : ROWS) {
                server.send(row.line());
                Map<String, Object> answer = server.read();
                assertThat(answer.get("jsonrpc")).as(row.why()).isEqualTo("2.0");
                assertThat(answer).as(row.why()).containsKey("id");
                assertThat(answer.get("id")).as(row.why() + ": id").isEqualTo(row.id());
                Map<String, Object> error = (Map<String, Object>) answer.get("error");
                assertThat(error).as(row.why()).isNotNull();
                assertThat(((Number) error.get("code")).intValue())
                        .as(row.why() + ": code")
                        .isEqualTo(row.code());
                if (row.code() != -32601) { // the SDK's own answer for an unknown method carries no reason
                    assertThat((Map<String, Object>) error.get("data"))
                            .as(row.why() + ": reason code")
                            .containsEntry("dev.mcpsecure/reason", "MALFORMED_MESSAGE");
                }
                assertThat(server.process.isAlive())
                        .as(row.why() + ": still running")
                        .isTrue();
            }

            server.send("{\"jsonrpc\":\"2.0\",\"id\":99,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\","
                    + "\"arguments\":{\"text\":\"still here\"}}}\r");
            Map<String, Object> call = server.read();
            assertThat(call.get("id")).isEqualTo(99);
            Map<String, Object> result = (Map<String, Object>) call.get("result");
            assertThat(result.get("isError")).isEqualTo(false);
            assertThat(result.toString()).contains("still here");
            assertThat(server.process.isAlive()).as("alive at the end").isTrue();

            assertThat(server.closeStdin()).isZero();
            stderr = server.stderr();
        }
        List<Map<String, Object>> audit = PythonDriver.allAuditLines(stderr);
        assertThat(audit)
                .filteredOn(line -> "MALFORMED_MESSAGE".equals(line.get("reason")))
                .as("one audit line per malformed message")
                .hasSize(ROWS.size());
    }
}
