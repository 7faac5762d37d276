package dev.mcpsecure.samples;

import dev.mcpsecure.core.SecureFiles;
import dev.mcpsecure.vault.VaultCommand;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.FileSystemException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;
import java.util.regex.Pattern;

/** How the samples declare their tools: a name, a description, string parameters and a body. */
final class SampleTools {

    /** A qualified JDK class name, or a simple name ending in Exception or Error. */
    private static final Pattern CLASS_NAME =
            Pattern.compile("\\b(java|javax|jdk|sun)\\.[a-z]\\w*\\.|\\w(Exception|Error)\\b");

    private SampleTools() {}

    /**
     * The samples' launcher layer: {@code <sample> vault plan|apply|check ...} runs the {@link
     * VaultCommand} (core's launchers, which take {@code lock}, cannot: core does not depend on the
     * vault module); any other arguments go to {@code serve}.
     */
    static int launch(String[] args, IntSupplier serve) {
        return VaultCommand.requested(args)
                ? VaultCommand.run(args, System.getenv(), System.out, System.err)
                : serve.getAsInt();
    }

    /** A tool body that may fail with an I/O error, reported to the client as a plain error result. */
    @FunctionalInterface
    interface Body {
        CallToolResult apply(CallToolRequest request) throws IOException;
    }

    /**
     * A sync tool whose parameters are all strings; {@code required} of them must be given.
     * Policy denials thrown by the body propagate, so the pipeline answers with their reason code.
     */
    static SyncToolSpecification tool(
            String name, String description, List<String> required, List<String> optional, Body body) {
        Map<String, Object> properties = new LinkedHashMap<>();
        required.forEach(parameter -> properties.put(parameter, Map.of("type", "string")));
        optional.forEach(parameter -> properties.put(parameter, Map.of("type", "string")));
        return SyncToolSpecification.builder()
                .tool(McpSchema.Tool.builder(
                                name, Map.of("type", "object", "properties", properties, "required", required))
                        .description(description)
                        .build())
                .callHandler((exchange, request) -> {
                    try {
                        return body.apply(request);
                    } catch (IOException e) {
                        return error(describe(e, request));
                    }
                })
                .build();
    }

    /**
     * What the client is told about an I/O failure of its call: a plain sentence, never a Java
     * class name, stack text or a host path it did not send. File errors name the path as the
     * client sent it ({@link dev.mcpsecure.core.SecureFiles} reports that path; anything else
     * falls back to the call's {@code path} argument).
     */
    static String describe(IOException failure, CallToolRequest request) {
        if (failure instanceof FileSystemException file) {
            String what = SecureFiles.problem(file);
            if (what.equals("I/O error")) {
                what = "cannot access" + (safe(file.getReason()) ? " (" + file.getReason() + ")" : "");
            }
            return what + ": " + shownPath(file, request);
        }
        if (failure instanceof SocketTimeoutException) {
            return "timed out" + (safe(failure.getMessage()) ? ": " + failure.getMessage() : "");
        }
        if (failure instanceof UnknownHostException) {
            return "unknown host" + (safe(failure.getMessage()) ? ": " + failure.getMessage() : "");
        }
        return safe(failure.getMessage()) ? failure.getMessage() : "input/output error";
    }

    /**
     * The failed path: the exception's when it is the path the client sent or one below it (as
     * {@code search_files} descends), else the client's; never a path the client did not name.
     */
    private static String shownPath(FileSystemException failure, CallToolRequest request) {
        Object sent = request.arguments() == null ? null : request.arguments().get("path");
        if (sent == null) {
            return "the requested path";
        }
        String client = String.valueOf(sent);
        String file = failure.getFile();
        boolean below = file != null
                && !client.isEmpty()
                && !client.equals("/")
                && (file.equals(client) || file.startsWith(client.endsWith("/") ? client : client + "/"));
        return below ? file : client;
    }

    /**
     * Whether a message may reach the client as is: present, one line, and naming no Java class
     * (library messages sometimes embed a cause's {@code toString()}, such as {@code
     * java.net.ConnectException: ...}).
     */
    private static boolean safe(String message) {
        return message != null
                && !message.isBlank()
                && message.indexOf('\n') < 0
                && message.indexOf('\r') < 0
                && !CLASS_NAME.matcher(message).find();
    }

    /** The string argument {@code name}, or {@code fallback} when absent. */
    static String argument(CallToolRequest request, String name, String fallback) {
        Object value = request.arguments() == null ? null : request.arguments().get(name);
        if (value == null) {
            if (fallback == null) {
                throw new IllegalArgumentException("argument '" + name + "' is required");
            }
            return fallback;
        }
        return String.valueOf(value);
    }

    static CallToolResult text(String text) {
        return CallToolResult.builder().addTextContent(text).isError(false).build();
    }

    static CallToolResult error(String text) {
        return CallToolResult.builder().addTextContent(text).isError(true).build();
    }
}
