package dev.mcpsecure.core.internal.pipeline;

import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.Content;
import io.modelcontextprotocol.spec.McpSchema.EmbeddedResource;
import io.modelcontextprotocol.spec.McpSchema.TextContent;
import io.modelcontextprotocol.spec.McpSchema.TextResourceContents;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Remembers every token and secret value handed to tool code and removes each from tool results
 * before they leave the server: text content, embedded text resources and structured content,
 * by exact match. Values shorter than {@link #MIN_LENGTH} characters are not tracked, as they
 * would match ordinary text. Thread-safe.
 */
public final class Redactor {

    /** Shortest value redacted. */
    public static final int MIN_LENGTH = 4;
    /** What a value is replaced with. */
    public static final String MARK = "[REDACTED]";

    private final Map<String, Instant> values = new ConcurrentHashMap<>();

    /**
     * Remembers {@code value} for redaction until {@code forgetAfter} (a token's expiry; {@link
     * Instant#MAX} for secrets), so that rotating tokens do not pile up.
     *
     * @return whether the value is new here (a token just minted, not one handed out before)
     */
    public boolean track(String value, Instant forgetAfter) {
        if (value == null || value.length() < MIN_LENGTH) {
            return false;
        }
        Instant now = Instant.now();
        values.values().removeIf(expiry -> expiry.isBefore(now));
        if (values.putIfAbsent(value, forgetAfter) == null) {
            return true;
        }
        values.merge(value, forgetAfter, (a, b) -> a.isAfter(b) ? a : b);
        return false;
    }

    /** The result with every tracked value replaced, and how many replacements were made. */
    Redacted redact(CallToolResult result) {
        if (values.isEmpty() || result == null) {
            return new Redacted(result, 0);
        }
        int[] count = {0};
        List<Content> content = null;
        if (result.content() != null) {
            content = new ArrayList<>(result.content().size());
            for (Content item : result.content()) {
                content.add(redact(item, count));
            }
        }
        Object structured = redactValue(result.structuredContent(), count);
        if (count[0] == 0) {
            return new Redacted(result, 0);
        }
        return new Redacted(new CallToolResult(content, result.isError(), structured, result.meta()), count[0]);
    }

    private Content redact(Content item, int[] count) {
        if (item instanceof TextContent text) {
            String clean = redactText(text.text(), count);
            return clean == text.text() ? text : new TextContent(text.annotations(), clean, text.meta());
        }
        if (item instanceof EmbeddedResource embedded && embedded.resource() instanceof TextResourceContents resource) {
            String clean = redactText(resource.text(), count);
            return clean == resource.text()
                    ? embedded
                    : new EmbeddedResource(
                            embedded.annotations(),
                            new TextResourceContents(resource.uri(), resource.mimeType(), clean, resource.meta()),
                            embedded.meta());
        }
        return item;
    }

    private Object redactValue(Object value, int[] count) {
        if (value instanceof String text) {
            return redactText(text, count);
        }
        if (value instanceof Map<?, ?> map) {
            Map<Object, Object> copy = new LinkedHashMap<>();
            map.forEach((key, item) -> copy.put(redactValue(key, count), redactValue(item, count)));
            return copy;
        }
        if (value instanceof List<?> list) {
            List<Object> copy = new ArrayList<>(list.size());
            list.forEach(item -> copy.add(redactValue(item, count)));
            return copy;
        }
        return value;
    }

    /** {@code text} with every tracked value replaced. */
    String redactText(String text) {
        return values.isEmpty() ? text : redactText(text, new int[1]);
    }

    /** {@code text} itself when nothing matched, so callers can tell by identity. */
    private String redactText(String text, int[] count) {
        if (text == null) {
            return null;
        }
        String result = text;
        for (String value : values.keySet()) {
            int at = result.indexOf(value);
            if (at < 0) {
                continue;
            }
            StringBuilder out = new StringBuilder(result.length());
            int from = 0;
            while (at >= 0) {
                out.append(result, from, at).append(MARK);
                count[0]++;
                from = at + value.length();
                at = result.indexOf(value, from);
            }
            result = out.append(result, from, result.length()).toString();
        }
        return result;
    }

    /** A result after redaction. */
    record Redacted(CallToolResult result, int count) {}
}
