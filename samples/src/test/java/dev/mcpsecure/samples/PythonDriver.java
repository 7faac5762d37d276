package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.testkit.PythonMcpClient;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.TypeRef;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Starts a sample server from the packaged jar and drives it over stdio with the official Python
 * MCP client ({@code src/test/python/drive_stdio.py}); parses what came back and the audit records
 * the server wrote to a fresh audit file of its own ({@link AuditRecords}).
 */
final class PythonDriver {

    static final Path JAR = Path.of("target", "mcp-secure-samples.jar").toAbsolutePath();
    static final McpJsonMapper JSON = McpJsonDefaults.getMapper();

    private static final Path DRIVER =
            Path.of("src", "test", "python", "drive_stdio.py").toAbsolutePath();

    private PythonDriver() {}

    /** One tool call to make. */
    record Call(String tool, Map<String, Object> arguments) {}

    /**
     * What the client saw, what the server logged, and its audit records.
     *
     * @param audit every record of the server's audit file, in order, each a JSON object with a kind
     */
    record Run(Map<String, Object> report, String stdout, String stderr, List<Map<String, Object>> audit) {
        /** The calls as the client saw them. */
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> calls() {
            return (List<Map<String, Object>>) report.get("calls");
        }

        /** The {@code call} audit records, one per {@code tools/call}. */
        List<Map<String, Object>> callRecords() {
            return AuditRecords.calls(audit);
        }

        /** The {@code effect} audit records with one of {@code actions}. */
        List<Map<String, Object>> effectRecords(String... actions) {
            return AuditRecords.effects(audit, actions);
        }
    }

    /** The command that starts {@code mainClass} from the samples jar with {@code args}. */
    static List<String> command(String mainClass, String... args) {
        assertThat(JAR)
                .as("run './mvnw verify': the IT needs the packaged samples jar")
                .exists();
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", JAR.toString(), mainClass));
        command.addAll(List.of(args));
        return command;
    }

    /** Runs the Python client against the server {@code command} starts; fails on a non-zero exit. */
    static Run drive(List<String> command, String elicitation, List<Call> calls) throws IOException {
        return drive(command, elicitation, calls, Map.of());
    }

    /**
     * As {@link #drive(List, String, List)}, with {@code env} added to the few variables the
     * Python client passes to the server by default, and {@value AuditRecords#ENV} naming a fresh
     * audit file, read strictly (and deleted) once the client, and with it the server, has ended.
     */
    static Run drive(List<String> command, String elicitation, List<Call> calls, Map<String, String> env)
            throws IOException {
        Path auditFile = AuditRecords.freshFile();
        Map<String, String> serverEnv = new HashMap<>(env);
        serverEnv.put(AuditRecords.ENV, auditFile.toString());
        List<Map<String, Object>> plannedCalls = new ArrayList<>();
        for (Call call : calls) {
            plannedCalls.add(Map.of("tool", call.tool(), "arguments", call.arguments()));
        }
        Map<String, Object> plan = Map.of(
                "command",
                command.get(0),
                "args",
                command.subList(1, command.size()),
                "elicitation",
                elicitation,
                "calls",
                plannedCalls,
                "env",
                serverEnv);
        PythonMcpClient.Result result =
                PythonMcpClient.run(DRIVER, List.of(JSON.writeValueAsString(plan)), Duration.ofMinutes(2));
        assertThat(result.exitCode())
                .as("the Python client failed:\n%s", result.stderr())
                .isZero();
        assertThat(result.stderr())
                .as("no audit record on stderr, where the SDK logs what clients send")
                .doesNotContain(" dev.mcpsecure.audit ");
        return new Run(
                JSON.readValue(result.stdout(), new TypeRef<Map<String, Object>>() {}),
                result.stdout(),
                result.stderr(),
                AuditRecords.readAndDelete(auditFile));
    }

    /** The text of a call that must have succeeded. */
    @SuppressWarnings("unchecked")
    static String text(Map<String, Object> call) {
        assertThat(call.get("isError")).as(call.toString()).isEqualTo(false);
        return String.join("\n", (List<String>) call.get("text"));
    }

    /** The text of a call that must have failed. */
    @SuppressWarnings("unchecked")
    static String errorText(Map<String, Object> call) {
        assertThat(call.get("isError")).as(call.toString()).isEqualTo(true);
        return String.join("\n", (List<String>) call.get("text"));
    }

    /** Asserts that a call was refused with {@code reason}, in its text and in its {@code _meta}. */
    @SuppressWarnings("unchecked")
    static void assertDenied(Map<String, Object> call, String reason) {
        assertThat(call.get("isError")).as(call.toString()).isEqualTo(true);
        assertThat(String.join("\n", (List<String>) call.get("text"))).startsWith(reason + ": ");
        assertThat((Map<String, Object>) call.get("meta")).containsEntry("dev.mcpsecure/reason", reason);
    }

    /** Copies {@code from} into {@code to} on a daemon thread until it ends; join it before reading {@code to}. */
    static Thread drain(java.io.InputStream from, java.io.ByteArrayOutputStream to) {
        Thread thread = new Thread(() -> {
            try {
                from.transferTo(to);
            } catch (IOException e) {
                // the process ended
            }
        });
        thread.setDaemon(true);
        thread.start();
        return thread;
    }
}
