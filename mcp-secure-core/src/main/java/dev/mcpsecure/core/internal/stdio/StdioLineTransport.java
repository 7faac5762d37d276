package dev.mcpsecure.core.internal.stdio;

import dev.mcpsecure.api.ReasonCode;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.TypeRef;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.JSONRPCMessage;
import io.modelcontextprotocol.spec.McpSchema.JSONRPCResponse;
import io.modelcontextprotocol.spec.McpServerSession;
import io.modelcontextprotocol.spec.McpServerTransport;
import io.modelcontextprotocol.spec.McpServerTransportProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The stdio transport of one MCP session: newline-delimited JSON-RPC on stdin and stdout, read by
 * mcp-secure's own line reader instead of the SDK's, whose transport stops reading for good on one
 * malformed line.
 *
 * <p>Every line that is not a JSON-RPC message gets a JSON-RPC error and the reader goes on with
 * the next line: invalid UTF-8, an empty line, text that is not JSON ({@code -32700} parse error,
 * {@code id: null}); JSON that is not a JSON-RPC 2.0 object, such as an array (batches are not
 * part of MCP), a missing {@code jsonrpc} or {@code method} ({@code -32600} invalid request, with
 * the message's {@code id} when it has a usable one); a line longer than the limit ({@code
 * -32600}; the excess is skipped as it arrives, never buffered). Each is reported to the {@code
 * malformed} listener (the launcher audits it as {@code MALFORMED_MESSAGE}); a well-formed request
 * for a method the server does not serve is the call pipeline's to refuse and audit ({@code
 * METHOD_NOT_SERVED}). A trailing {@code \r} is
 * accepted. Stdout carries only JSON-RPC lines, one write per message.
 *
 * <p>One reader thread; writes are serialized. {@link #awaitEndOfInput()} returns when stdin
 * ends or fails.
 */
public final class StdioLineTransport implements McpServerTransportProvider {

    private static final Logger LOG = LoggerFactory.getLogger("dev.mcpsecure.core.stdio");
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    /** JSON-RPC's parse error. */
    static final int PARSE_ERROR = -32700;
    /** JSON-RPC's invalid request. */
    static final int INVALID_REQUEST = -32600;

    private final McpJsonMapper mapper;
    private final InputStream in;
    private final OutputStream out;
    private final long maxLineBytes;
    private final BiConsumer<String, String> malformed;
    private final CountDownLatch endOfInput = new CountDownLatch(1);
    /** Used by the reader thread only. */
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);

    private final Object writeLock = new Object();
    private volatile McpServerSession session;
    private volatile boolean closing;

    /**
     * @param maxLineBytes the longest line read, in bytes, newline excluded
     * @param malformed told of each malformed message: the session's id ({@code null} before the
     *     session exists) and a client-safe sentence
     */
    public StdioLineTransport(
            McpJsonMapper mapper,
            InputStream in,
            OutputStream out,
            long maxLineBytes,
            BiConsumer<String, String> malformed) {
        this.mapper = Objects.requireNonNull(mapper, "mapper");
        this.in = Objects.requireNonNull(in, "in");
        this.out = Objects.requireNonNull(out, "out");
        if (maxLineBytes < 1) {
            throw new IllegalArgumentException("maxLineBytes must be positive but was " + maxLineBytes);
        }
        this.maxLineBytes = maxLineBytes;
        this.malformed = Objects.requireNonNull(malformed, "malformed");
    }

    @Override
    public void setSessionFactory(McpServerSession.Factory factory) {
        session = factory.create(new SessionTransport());
        Thread reader = new Thread(this::readLines, "mcp-secure-stdio-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /** Blocks until stdin ends or fails. */
    public void awaitEndOfInput() throws InterruptedException {
        endOfInput.await();
    }

    @Override
    public Mono<Void> notifyClients(String method, Object params) {
        McpServerSession current = session;
        return current == null ? Mono.empty() : current.sendNotification(method, params);
    }

    @Override
    public Mono<Void> notifyClient(String sessionId, String method, Object params) {
        McpServerSession current = session;
        return current == null || !current.getId().equals(sessionId)
                ? Mono.empty()
                : current.sendNotification(method, params);
    }

    @Override
    public Mono<Void> closeGracefully() {
        closing = true;
        McpServerSession current = session;
        return current == null ? Mono.empty() : current.closeGracefully();
    }

    @Override
    public void close() {
        closing = true;
        McpServerSession current = session;
        if (current != null) {
            current.close();
        }
    }

    private void readLines() {
        byte[] chunk = new byte[8192];
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        long lineBytes = 0;
        long lineNumber = 1;
        try {
            for (int read; (read = in.read(chunk)) >= 0; ) {
                int start = 0;
                for (int i = 0; i < read; i++) {
                    if (chunk[i] != '\n') {
                        continue;
                    }
                    lineBytes += keep(line, lineBytes, chunk, start, i - start);
                    endOfLine(line, lineBytes, lineNumber++);
                    line.reset();
                    lineBytes = 0;
                    start = i + 1;
                }
                lineBytes += keep(line, lineBytes, chunk, start, read - start);
            }
            if (lineBytes > 0) {
                endOfLine(line, lineBytes, lineNumber);
            }
        } catch (IOException e) {
            if (!closing) {
                LOG.warn("stdin failed; the session ends: {}", e.toString());
            }
        } catch (RuntimeException e) {
            LOG.error("the stdio reader failed; the session ends", e);
        } finally {
            endOfInput.countDown();
        }
    }

    /** Buffers the part of {@code length} bytes that still fits the limit; returns {@code length}. */
    private int keep(ByteArrayOutputStream line, long lineBytes, byte[] chunk, int offset, int length) {
        long room = maxLineBytes - lineBytes;
        if (room > 0) {
            line.write(chunk, offset, (int) Math.min(room, length));
        }
        return length;
    }

    private void endOfLine(ByteArrayOutputStream line, long lineBytes, long lineNumber) {
        if (lineBytes > maxLineBytes) {
            refuse(
                    null,
                    INVALID_REQUEST,
                    "Invalid Request: line " + lineNumber + " has " + lineBytes + " bytes, over the limit of "
                            + maxLineBytes);
            return;
        }
        byte[] bytes = line.toByteArray();
        int length = bytes.length;
        if (length > 0 && bytes[length - 1] == '\r') {
            length--;
        }
        String text;
        try {
            text = utf8.reset().decode(ByteBuffer.wrap(bytes, 0, length)).toString();
        } catch (CharacterCodingException e) {
            refuse(null, PARSE_ERROR, "Parse error: line " + lineNumber + " is not valid UTF-8");
            return;
        }
        if (text.isBlank()) {
            refuse(null, PARSE_ERROR, "Parse error: line " + lineNumber + " is empty");
            return;
        }
        JsonNode tree;
        try {
            tree = JSON.readTree(text);
        } catch (JacksonException e) {
            refuse(null, PARSE_ERROR, "Parse error: line " + lineNumber + " is not JSON");
            return;
        }
        Object id = usableId(tree);
        String problem = jsonRpcProblem(tree);
        if (problem != null) {
            refuse(id, INVALID_REQUEST, "Invalid Request: line " + lineNumber + " " + problem);
            return;
        }
        JSONRPCMessage message;
        try {
            message = message(tree);
        } catch (RuntimeException e) {
            refuse(id, INVALID_REQUEST, "Invalid Request: line " + lineNumber + " is not a JSON-RPC message");
            return;
        }
        McpServerSession current = session;
        current.handle(message)
                .subscribe(
                        null,
                        error -> LOG.warn(
                                "the session failed to handle a message on line {}: {}", lineNumber, error.toString()));
    }

    /**
     * The SDK's message for a checked JSON-RPC object, converted from the tree already parsed (the
     * line is read once), choosing the type as the SDK's own deserializer does.
     */
    private JSONRPCMessage message(JsonNode tree) {
        if (tree.has("method")) {
            return tree.has("id")
                    ? mapper.convertValue(tree, McpSchema.JSONRPCRequest.class)
                    : mapper.convertValue(tree, McpSchema.JSONRPCNotification.class);
        }
        return mapper.convertValue(tree, JSONRPCResponse.class);
    }

    /** Why {@code tree} is not a JSON-RPC 2.0 message, or {@code null} when it is one. */
    private static String jsonRpcProblem(JsonNode tree) {
        if (tree.isArray()) {
            return "is a batch (a JSON array); MCP messages are single JSON objects";
        }
        if (!tree.isObject()) {
            return "is a JSON " + tree.getNodeType().name().toLowerCase(java.util.Locale.ROOT)
                    + ", not a JSON-RPC object";
        }
        if (!"2.0".equals(tree.path("jsonrpc").asString(null))) {
            return "has no \"jsonrpc\": \"2.0\"";
        }
        JsonNode method = tree.get("method");
        if (method != null) {
            if (!method.isString() || method.stringValue().isEmpty()) {
                return "has a \"method\" that is not a non-empty string";
            }
            JsonNode id = tree.get("id");
            if (id != null && !id.isString() && !id.isIntegralNumber()) {
                return "has an \"id\" that is neither a string nor an integer";
            }
            JsonNode params = tree.get("params");
            if (params != null && !params.isObject() && !params.isNull()) {
                return "has \"params\" that are not an object";
            }
            return null;
        }
        if (tree.has("id") && (tree.has("result") || tree.has("error"))) {
            return null;
        }
        return "has neither a \"method\" nor a \"result\" or \"error\" with an \"id\"";
    }

    /** The message's id when it is a string or an integer, else {@code null}. */
    private static Object usableId(JsonNode tree) {
        JsonNode id = tree.isObject() ? tree.get("id") : null;
        if (id == null) {
            return null;
        }
        if (id.isString()) {
            return id.stringValue();
        }
        return id.isIntegralNumber() && id.canConvertToLong() ? (Object) id.longValue() : null;
    }

    private void refuse(Object id, int code, String message) {
        McpServerSession current = session;
        malformed.accept(current == null ? null : current.getId(), message);
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("code", code);
        error.put("message", message);
        error.put("data", Map.of("dev.mcpsecure/reason", ReasonCode.MALFORMED_MESSAGE.name()));
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("jsonrpc", "2.0");
        reply.put("id", id);
        reply.put("error", error);
        write(JSON.writeValueAsString(reply));
    }

    private void write(String json) {
        byte[] bytes = (json + "\n").getBytes(StandardCharsets.UTF_8);
        synchronized (writeLock) {
            try {
                out.write(bytes);
                out.flush();
            } catch (IOException e) {
                if (!closing) {
                    LOG.warn("stdout failed: {}", e.toString());
                }
            }
        }
    }

    /** The session's side: outgoing messages as lines; incoming ones come from the reader. */
    private final class SessionTransport implements McpServerTransport {
        @Override
        public Mono<Void> sendMessage(JSONRPCMessage message) {
            return Mono.fromCallable(() -> {
                        write(mapper.writeValueAsString(message));
                        return Boolean.TRUE;
                    })
                    .then();
        }

        @Override
        public <T> T unmarshalFrom(Object data, TypeRef<T> typeRef) {
            return mapper.convertValue(data, typeRef);
        }

        @Override
        public Mono<Void> closeGracefully() {
            return Mono.fromRunnable(() -> closing = true);
        }

        @Override
        public void close() {
            closing = true;
        }
    }
}
