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
 * line after another: each gets its JSON-RPC error with its reason code, each is one {@code
 * message} record in the audit file (MALFORMED_MESSAGE; METHOD_NOT_SERVED for a method the server
 * does not serve), and the next valid call still succeeds on the same process.
 */
class MalformedStdioIT {

    private static final Path POLICY = Path.of("policies", "demo.yaml").toAbsolutePath();

    /**
     * One malformed input (the bytes of one line, newline excluded) and what must come back.
     *
     * @param id the id the error must carry ({@code null}: JSON null)
     * @param reason the reason code in the error's data and in the audit record
     */
    private record Row(String why, byte[] line, int code, Object id, String reason) {
        Row(String why, byte[] line, int code, Object id) {
            this(why, line, code, id, "MALFORMED_MESSAGE");
        }

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
            new Row(
                    "a method the server does not serve",
                    "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"no/such/method\"}".getBytes(StandardCharsets.UTF_8),
                    -32601,
                    10,
                    "METHOD_NOT_SERVED"),
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
        List<Map<String, Object>> audit;
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
                assertThat((Map<String, Object>) error.get("data"))
                        .as(row.why() + ": reason code")
                        .containsEntry("dev.mcpsecure/reason", row.reason());
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
            audit = server.audit();
        }
        assertThat(AuditRecords.ofKind(audit, "message"))
                .as("one message record per malformed message, in order")
                .extracting(line -> line.get("reason"))
                .containsExactlyElementsOf(ROWS.stream().map(Row::reason).toList());
        assertThat(AuditRecords.ofKind(audit, "message")).allSatisfy(line -> {
            assertThat(line.get("decision")).isEqualTo("deny");
            assertThat(line.get("callId")).isNull();
        });
        assertThat(AuditRecords.ofKind(audit, "message"))
                .filteredOn(line -> "METHOD_NOT_SERVED".equals(line.get("reason")))
                .singleElement()
                .satisfies(line -> assertThat(line.get("detail").toString()).contains("no/such/method"));
        assertThat(AuditRecords.calls(audit))
                .as("the one call: the echo after them")
                .singleElement()
                .satisfies(line -> {
                    assertThat(line.get("tool")).isEqualTo("echo");
                    assertThat(line.get("reason")).isEqualTo("ALLOWED");
                });
    }
}
