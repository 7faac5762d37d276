package dev.mcpsecure.samples;

import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** How the samples declare their tools: a name, a description, string parameters and a body. */
final class SampleTools {

    private SampleTools() {}

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
                    } catch (FileSystemException e) {
                        return error(e.getClass().getSimpleName() + ": " + e.getFile());
                    } catch (IOException e) {
                        return error(e.getMessage());
                    }
                })
                .build();
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
