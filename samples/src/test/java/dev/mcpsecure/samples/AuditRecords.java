package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.core.ServerStart;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The audit records a sample server wrote to its own audit file ({@value ServerStart#AUDIT_FILE_ENV}),
 * read strictly: every line of the file must be one JSON object with a known {@code kind}, so a
 * line that anything else wrote, or a torn one, fails the test. The tests never read audit records
 * from a process's stderr, where the SDK and libraries log text that clients sent.
 */
final class AuditRecords {

    /** The variable that points a launcher's audit records at a file. */
    static final String ENV = ServerStart.AUDIT_FILE_ENV;

    /** The record kinds ({@code Slf4jAuditSink.toJson}). */
    static final Set<String> KINDS = Set.of("call", "effect", "transport", "message", "start", "surface");

    /** The effect actions of files, processes and connections: each must carry its call. */
    static final Predicate<String> FILE_PROCESS_EGRESS = action ->
            action != null && (action.startsWith("file.") || action.equals("process") || action.equals("egress"));

    private AuditRecords() {}

    /** A path for a fresh audit file, in a new temporary folder; the server creates the file. */
    static Path freshFile() throws IOException {
        return Files.createTempDirectory("mcp-secure-audit-").resolve("audit.jsonl");
    }

    /** Reads {@code file} (which must exist) strictly; see {@link #parse}. */
    static List<Map<String, Object>> read(Path file) throws IOException {
        assertThat(file).as("the server wrote its audit file").exists();
        return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    }

    /** Reads {@code file} strictly and deletes it and its folder (made by {@link #freshFile}). */
    static List<Map<String, Object>> readAndDelete(Path file) throws IOException {
        try {
            return read(file);
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(file.getParent());
        }
    }

    /**
     * Parses the text of an audit file: one JSON object a line, each ending with a newline, each
     * with a {@code kind} of {@link #KINDS}; anything else (a blank line, text, an array, trailing
     * text after the object, a torn last line) throws {@link AssertionError} naming {@code source}
     * and the line.
     */
    static List<Map<String, Object>> parse(String text, String source) {
        List<Map<String, Object>> records = new ArrayList<>();
        if (text.isEmpty()) {
            return records;
        }
        if (!text.endsWith("\n")) {
            throw new AssertionError(source + ": the last line does not end with a newline (torn record): "
                    + text.substring(text.lastIndexOf('\n') + 1));
        }
        String[] lines = text.substring(0, text.length() - 1).split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            records.add(parseLine(lines[i], source + ":" + (i + 1)));
        }
        return records;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> parseLine(String line, String where) {
        String trimmed = line.strip();
        if (!trimmed.startsWith("{") || !trimmed.endsWith("}") || !trimmed.equals(line)) {
            throw new AssertionError(where + ": not one JSON object: " + line);
        }
        Object parsed;
        try {
            parsed = PythonDriver.JSON.readValue(line, Object.class);
        } catch (IOException | RuntimeException e) {
            throw new AssertionError(where + ": not JSON: " + line, e);
        }
        if (!(parsed instanceof Map<?, ?> map)) {
            throw new AssertionError(where + ": not a JSON object: " + line);
        }
        // a value after the object (what a forger would append) fails to parse: AuditRecordsTest
        Object kind = map.get("kind");
        if (!(kind instanceof String name) || !KINDS.contains(name)) {
            throw new AssertionError(where + ": no known kind (" + kind + "): " + line);
        }
        return (Map<String, Object>) map;
    }

    /** The records of {@code kind}. */
    static List<Map<String, Object>> ofKind(List<Map<String, Object>> records, String kind) {
        return records.stream().filter(r -> kind.equals(r.get("kind"))).toList();
    }

    /** The {@code call} records: exactly one per {@code tools/call}. */
    static List<Map<String, Object>> calls(List<Map<String, Object>> records) {
        return ofKind(records, "call");
    }

    /** The {@code effect} records with one of {@code actions}. */
    static List<Map<String, Object>> effects(List<Map<String, Object>> records, String... actions) {
        Set<String> wanted = Set.of(actions);
        return ofKind(records, "effect").stream()
                .filter(r -> wanted.contains(r.get("action")))
                .toList();
    }

    /** The one {@code call} record with {@code callId}. */
    static Map<String, Object> callOf(List<Map<String, Object>> records, Object callId) {
        List<Map<String, Object>> calls = calls(records).stream()
                .filter(r -> callId != null && callId.equals(r.get("callId")))
                .toList();
        assertThat(calls).as("call records with callId %s", callId).hasSize(1);
        return calls.get(0);
    }

    /**
     * Effects carry their call (issue 20): every {@code effect} record on a file, a process or a
     * connection — and every other effect that names a call — carries a non-null {@code callId},
     * {@code session} and {@code tool}; its callId is that of exactly one {@code call} record, of
     * the same server, session, tool, client and subject; and for each of {@code required} actions
     * at least one such effect exists.
     */
    static void assertEffectsCarryTheirCall(List<Map<String, Object>> records, String... required) {
        List<Map<String, Object>> calls = calls(records);
        assertThat(calls)
                .extracting(r -> r.get("callId"))
                .as("call ids")
                .doesNotContainNull()
                .doesNotHaveDuplicates();
        List<Map<String, Object>> effects = ofKind(records, "effect").stream()
                .filter(r -> FILE_PROCESS_EGRESS.test((String) r.get("action")) || r.get("callId") != null)
                .toList();
        for (Map<String, Object> effect : effects) {
            assertThat(effect.get("callId")).as("callId of %s", effect).isNotNull();
            assertThat(effect.get("session")).as("session of %s", effect).isNotNull();
            assertThat(effect.get("tool")).as("tool of %s", effect).isNotNull();
            List<Map<String, Object>> owners = calls.stream()
                    .filter(call -> call.get("callId").equals(effect.get("callId")))
                    .toList();
            assertThat(owners).as("the call record of %s", effect).hasSize(1);
            Map<String, Object> call = owners.get(0);
            for (String key : List.of("server", "session", "tool", "client", "subject")) {
                assertThat(effect.get(key))
                        .as("%s of %s, against its call %s", key, effect, call)
                        .isEqualTo(call.get(key));
            }
        }
        for (String action : required) {
            assertThat(effects)
                    .as("effects with action %s, each tied to its call", action)
                    .anyMatch(effect -> action.equals(effect.get("action")));
        }
    }

    /** The records' values of {@code key}, in order. */
    static List<Object> values(List<Map<String, Object>> records, String key) {
        return records.stream().map(r -> r.get(key)).toList();
    }

    /** The effects of the call with {@code callId}. */
    static List<Map<String, Object>> effectsOf(List<Map<String, Object>> records, Object callId) {
        return ofKind(records, "effect").stream()
                .filter(r -> Objects.equals(callId, r.get("callId")))
                .toList();
    }

    /** For tests of this class: {@code lines} joined, each ending with a newline. */
    static String lines(String... lines) {
        return String.join("", Arrays.stream(lines).map(l -> l + "\n").toList());
    }
}
