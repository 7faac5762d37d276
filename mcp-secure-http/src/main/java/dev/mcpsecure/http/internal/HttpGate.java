package dev.mcpsecure.http.internal;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.Telemetry;
import dev.mcpsecure.api.TokenVerifier;
import dev.mcpsecure.api.ToolPolicy;
import dev.mcpsecure.api.TransportPolicy;
import dev.mcpsecure.api.Untrusted;
import dev.mcpsecure.api.VerifiedToken;
import dev.mcpsecure.core.internal.pipeline.Connection;
import dev.mcpsecure.core.internal.pipeline.Inbound;
import dev.mcpsecure.core.internal.pipeline.Pipeline;
import io.modelcontextprotocol.common.McpTransportContext;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.eclipse.jetty.ee11.servlet.ServletContextRequest;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The checks every HTTP request passes before the SDK's transport sees it, in this order: Host
 * allowlist (DNS rebinding), Origin allowlist, the protected resource metadata document (RFC 9728,
 * no token needed), the MCP endpoint only, a supported {@code MCP-Protocol-Version}, the body cap,
 * the bearer token, and — for a {@code tools/call} — the tool being listed in the policy, the
 * caller holding the tool's scopes, and the server's tool surface letting the SDK answer it (not
 * withheld for drift, not replaced at runtime, registered at all). Each refusal is answered with its HTTP status and a JSON body
 * naming the reason code, and audited. The caller's {@link VerifiedToken} (never the token) goes
 * on as a request attribute. Thread-safe.
 */
public final class HttpGate implements Filter {

    /** The request attribute holding the caller's {@link VerifiedToken}. */
    public static final String CALLER = VerifiedToken.TRANSPORT_CONTEXT_KEY;

    /** The request attribute holding a POST's {@link Connection}, for the SDK's transport context. */
    public static final String CONNECTION = Connection.TRANSPORT_CONTEXT_KEY;

    private static final String METADATA_PATH = "/.well-known/oauth-protected-resource";
    private static final int PARSE_ERROR = -32700;
    private static final int INVALID_REQUEST = -32600;
    private static final int METHOD_NOT_FOUND = -32601;
    private static final String REASON_KEY = "dev.mcpsecure/reason";
    private static final TypeReference<Map<String, Object>> ARGUMENTS = new TypeReference<>() {};
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** Everything the gate needs to decide. */
    public record Settings(
            SecurityPolicy policy,
            String endpoint,
            Set<String> allowedHosts,
            Set<String> allowedOrigins,
            Set<String> protocolVersions,
            long maxRequestBytes,
            TokenVerifier verifier,
            String resource,
            String metadataUrl,
            List<String> authorizationServers,
            Pipeline pipeline,
            SessionTable sessions,
            SessionReaper reaper,
            Heartbeats heartbeats) {}

    private final Settings settings;
    private final byte[] metadata;

    public HttpGate(Settings settings) {
        this.settings = settings;
        this.metadata = settings.verifier() == null ? null : metadataDocument(settings);
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        HttpServletRequest http = (HttpServletRequest) request;
        HttpServletResponse out = (HttpServletResponse) response;
        String method = http.getMethod();
        String path = http.getRequestURI();

        String host = http.getHeader("Host");
        if (host == null || !settings.allowedHosts().contains(host.toLowerCase(Locale.ROOT))) {
            refuse(out, 403, null, null, ReasonCode.HOST_NOT_ALLOWED, "Host " + clip(host) + " is not this server's");
            return;
        }
        String origin = http.getHeader("Origin");
        if (origin != null && !settings.allowedOrigins().contains(origin)) {
            refuse(
                    out,
                    403,
                    null,
                    null,
                    ReasonCode.ORIGIN_NOT_ALLOWED,
                    "Origin " + clip(origin) + " is not in transport.allowedOrigins");
            return;
        }
        if (path.equals(METADATA_PATH) || path.startsWith(METADATA_PATH + "/")) {
            if (metadata == null || !method.equals("GET")) {
                out.sendError(404);
                return;
            }
            out.setStatus(200);
            out.setContentType("application/json");
            out.setHeader("Cache-Control", "max-age=300");
            out.getOutputStream().write(metadata);
            return;
        }
        if (!path.equals(settings.endpoint())) {
            out.sendError(404);
            return;
        }
        String version = http.getHeader("MCP-Protocol-Version");
        if (version != null && !settings.protocolVersions().contains(version)) {
            refuse(
                    out,
                    400,
                    null,
                    null,
                    ReasonCode.PROTOCOL_VERSION_UNSUPPORTED,
                    "MCP-Protocol-Version " + clip(version) + " is not supported; use one of "
                            + settings.protocolVersions());
            return;
        }
        long declared = http.getContentLengthLong();
        if (declared > settings.maxRequestBytes()) {
            refuse(
                    out,
                    413,
                    null,
                    null,
                    ReasonCode.REQUEST_TOO_LARGE,
                    "the request body of " + declared + " bytes is over the " + settings.maxRequestBytes()
                            + " byte cap");
            return;
        }
        String session = http.getHeader("Mcp-Session-Id");
        VerifiedToken caller = null;
        if (settings.verifier() != null) {
            String authorization = http.getHeader("Authorization");
            String token = authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
                    ? authorization.substring(7).trim()
                    : null;
            try {
                caller = settings.verifier().verify(token);
            } catch (PolicyViolationException e) {
                Decision decision = e.decision();
                out.setHeader("WWW-Authenticate", challenge(decision));
                refuse(out, 401, null, null, decision.reason(), decision.detail());
                return;
            }
        }
        if (session != null) {
            SessionTable.State state = settings.sessions().touch(session);
            if (state != SessionTable.State.LIVE) {
                if (state == SessionTable.State.EXPIRED) {
                    settings.reaper().delete(session);
                }
                refuse(
                        out,
                        404,
                        caller,
                        null,
                        ReasonCode.SESSION_UNKNOWN,
                        "session " + clip(session)
                                + (state == SessionTable.State.EXPIRED
                                        ? " expired after being idle; initialize a new one"
                                        : " does not exist; initialize a new one"));
                return;
            }
            if (!settings.sessions().ownedBy(session, holder(caller, http))) {
                // answered as an unknown session, so its owner's session is neither used nor revealed
                String unknown = "session " + clip(session) + " does not exist; initialize a new one";
                audit(
                        caller,
                        null,
                        ReasonCode.SESSION_NOT_OWNED,
                        "HTTP 404: " + unknown + " (another principal or client holds it)");
                answer(out, 404, null, INVALID_REQUEST, ReasonCode.SESSION_UNKNOWN, unknown);
                return;
            }
            if (method.equals("DELETE")) {
                settings.pipeline().sessionEnded(session); // its owner ends it: no question waits on
            }
        }
        HttpServletRequest forward = http;
        boolean initialize = false;
        boolean responses = false;
        Connection connection = null;
        Telemetry.Request telemetry = telemetryOf(http);
        if (method.equals("POST")) {
            byte[] body;
            try {
                body = readCapped(http.getInputStream(), settings.maxRequestBytes());
            } catch (IOException slowOrGone) {
                // too slow (the minimum data rate) or the client went away: no worker waits on it
                try {
                    refuse(
                            out,
                            408,
                            caller,
                            null,
                            ReasonCode.TIMEOUT,
                            "the request body did not arrive at " + TransportPolicy.MIN_REQUEST_BYTES_PER_SECOND
                                    + " bytes a second or faster");
                } catch (IOException | IllegalStateException cannotAnswer) {
                    // the connection is gone; the audit line is written
                }
                return;
            }
            if (body == null) {
                refuse(
                        out,
                        413,
                        caller,
                        null,
                        ReasonCode.REQUEST_TOO_LARGE,
                        "the request body is over the " + settings.maxRequestBytes() + " byte cap");
                return;
            }
            JsonNode root;
            try {
                root = JSON.readTree(body);
            } catch (RuntimeException e) {
                refuse(out, 400, caller, null, ReasonCode.MALFORMED_MESSAGE, "the body is not JSON", PARSE_ERROR);
                return;
            }
            if (root == null || !(root.isObject() || root.isArray())) {
                refuse(
                        out,
                        400,
                        caller,
                        null,
                        ReasonCode.MALFORMED_MESSAGE,
                        "the body is not a JSON-RPC message (a JSON object)");
                return;
            }
            initialize =
                    root.isObject() && "initialize".equals(root.path("method").asString(""));
            if (initialize && session != null) {
                refuse(
                        out,
                        400,
                        caller,
                        null,
                        ReasonCode.MALFORMED_MESSAGE,
                        "an initialize request starts a session and must not name one; send it without"
                                + " Mcp-Session-Id");
                return;
            }
            if (initialize) {
                long state = JSON.writeValueAsBytes(root.path("params").path("clientInfo")).length
                        + JSON.writeValueAsBytes(root.path("params").path("capabilities")).length;
                long limit = settings.policy().transport().maxSessionStateBytes();
                if (state > limit) {
                    refuse(
                            out,
                            413,
                            caller,
                            null,
                            ReasonCode.REQUEST_TOO_LARGE,
                            "the client info and capabilities of this initialize are " + state + " bytes, over the "
                                    + limit + " a session keeps (transport.maxSessionStateBytes)");
                    return;
                }
            }
            responses = isResponse(root)
                    || root.isArray() && !root.isEmpty() && root.valueStream().allMatch(HttpGate::isResponse);
            if (!admitRequests(root, caller, session, telemetry, out)) {
                return;
            }
            forward = new BufferedBody(http, body);
            connection = connectionOf(http);
            forward.setAttribute(CONNECTION, connection);
        }
        if (caller != null) {
            forward.setAttribute(CALLER, caller);
        }
        forward.setAttribute(Inbound.TELEMETRY_CONTEXT_KEY, telemetry);
        String principal = caller == null ? null : caller.principal();
        boolean reserved = false;
        if (initialize) {
            SessionTable.Reservation place = settings.sessions().reserve(principal);
            if (place != SessionTable.Reservation.TAKEN) {
                TransportPolicy transport = settings.policy().transport();
                out.setHeader("Retry-After", "30");
                refuse(
                        out,
                        503,
                        caller,
                        null,
                        ReasonCode.SESSION_LIMIT,
                        place == SessionTable.Reservation.SERVER_FULL
                                ? "the server has its maximum of " + transport.maxSessions()
                                        + " live sessions; try again later"
                                : "this caller holds its maximum of " + transport.maxSessionsPerPrincipal()
                                        + " live sessions; end one (DELETE) or let one expire");
                return;
            }
            reserved = true;
        }
        // a new session is known before its id reaches the client, whose next request follows at once
        Connection gone = connection;
        SdkResponse answered = new SdkResponse(
                out,
                initialize ? settings.sessions() : null,
                holder(caller, http),
                responses,
                stream -> beating(http, stream, gone));
        try {
            chain.doFilter(forward, answered);
        } finally {
            if (reserved) {
                settings.sessions().created(principal, answered.opened());
            }
        }
        if (answered.refusedStatus() == 500) {
            // the SDK's "unexpected response for unknown id": nothing in this session waits for it
            String detail = "the response answers no request this server is waiting for in this session";
            audit(caller, null, ReasonCode.RESPONSE_UNEXPECTED, "HTTP 400: " + detail);
            answer(out, 400, null, INVALID_REQUEST, ReasonCode.RESPONSE_UNEXPECTED, detail);
            return;
        }
        if (answered.refusedStatus() != 0) {
            int status = answered.refusedStatus();
            audit(caller, null, ReasonCode.MALFORMED_MESSAGE, "HTTP " + status + ": the MCP SDK refused the request");
            answer(out, status, null, INVALID_REQUEST, ReasonCode.MALFORMED_MESSAGE, sdkRefusal(status));
            return;
        }
        if (method.equals("DELETE") && session != null && out.getStatus() == 200) {
            settings.sessions().closed(session);
            settings.reaper().deleted(session);
        }
    }

    /** Whether {@code message} is a JSON-RPC response: an object with a result or an error, no method. */
    private static boolean isResponse(JsonNode message) {
        return message.isObject() && !message.has("method") && (message.has("result") || message.has("error"));
    }

    /**
     * Who holds a session the request opens or uses: the verified caller's principal; without
     * authentication, the client as well as HTTP shows it — its address and {@code User-Agent}.
     * On loopback every local process has the same address, so the unauthenticated binding keeps
     * clients apart, not a local attacker who learns a session id (the README says so).
     */
    private static String holder(VerifiedToken caller, HttpServletRequest http) {
        if (caller != null) {
            return caller.principal();
        }
        return SessionTable.ANONYMOUS + http.getRemoteAddr() + " " + Objects.toString(http.getHeader("User-Agent"), "");
    }

    /**
     * What telemetry learns of an HTTP request: TCP, its {@code MCP-Protocol-Version} and the
     * trace context of its headers (a request's {@code _meta} takes precedence, per call).
     */
    private static Telemetry.Request telemetryOf(HttpServletRequest http) {
        Map<String, String> carrier = new LinkedHashMap<>();
        for (String key : Inbound.TRACE_KEYS) {
            String value = http.getHeader(key);
            if (value != null && value.length() <= 512) {
                carrier.put(key, value);
            }
        }
        return new Telemetry.Request("tools/call", "tcp", http.getHeader("MCP-Protocol-Version"), carrier);
    }

    /**
     * {@code stream}, the writer of an event stream the SDK answers with, as the heartbeats watch
     * it until the request completes; a failed beat ends {@code connection} (when not null).
     */
    private PrintWriter beating(HttpServletRequest http, PrintWriter stream, Connection connection) {
        org.eclipse.jetty.server.Request request = ServletContextRequest.getServletContextRequest(http);
        if (request == null) {
            return stream;
        }
        Heartbeats.Beating beating = settings.heartbeats().watch(stream, () -> {
            if (connection != null) {
                connection.end("the client's connection closed");
            }
        });
        org.eclipse.jetty.server.Request.addCompletionListener(request, failure -> beating.stop());
        return beating;
    }

    /**
     * The connection of a POST, ended when Jetty reports the request failed (the client closed or
     * reset the connection, or it timed out) or completed: a confirmation question the request's
     * call waits on stops waiting then.
     */
    private static Connection connectionOf(HttpServletRequest http) {
        Connection connection = new Connection();
        org.eclipse.jetty.server.Request request = ServletContextRequest.getServletContextRequest(http);
        if (request != null) {
            request.addFailureListener(failure -> connection.end("the client's connection closed"));
            org.eclipse.jetty.server.Request.addCompletionListener(
                    request, failure -> connection.end("the request ended"));
        }
        return connection;
    }

    /**
     * The SDK's answer as the gate passes it on: the session id it sets on an {@code initialize}
     * response is recorded as it is set (with its owner), and a refusal (a 4xx status) keeps its
     * status but none of the SDK's body, which can hold serialized exceptions and stack frames; the
     * gate writes its own body for it. So does a 500 to a request of responses only (the SDK's
     * answer to a response for an id no request of the session waits for). Another 5xx (the SDK
     * shutting down) passes as the SDK wrote it.
     */
    private static final class SdkResponse extends HttpServletResponseWrapper {
        private static final ServletOutputStream DISCARD = new ServletOutputStream() {
            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setWriteListener(jakarta.servlet.WriteListener listener) {
                throw new UnsupportedOperationException("a refused answer is not streamed");
            }

            @Override
            public void write(int b) {}

            @Override
            public void write(byte[] bytes, int offset, int length) {}
        };

        private final SessionTable sessions;
        private final String owner;
        private int refusedStatus;
        private boolean opened;

        private final boolean responses;
        private final UnaryOperator<PrintWriter> streams;
        private PrintWriter writer;

        /**
         * @param sessions where to record a session the SDK opens, or {@code null} when none may open
         * @param responses whether the request carries JSON-RPC responses only: a 500 of the SDK
         *     then says an id is not awaited, and is a refusal too
         * @param streams what the writer of an event stream answer is wrapped in
         */
        SdkResponse(
                HttpServletResponse response,
                SessionTable sessions,
                String owner,
                boolean responses,
                UnaryOperator<PrintWriter> streams) {
            super(response);
            this.sessions = sessions;
            this.owner = owner;
            this.responses = responses;
            this.streams = streams;
        }

        /** Whether the SDK opened a session in this answer. */
        boolean opened() {
            return opened;
        }

        /** The error status the SDK answered with, or 0. */
        int refusedStatus() {
            return refusedStatus;
        }

        @Override
        public void setStatus(int status) {
            if (status >= 400 && status < 500 || status == 500 && responses) {
                refusedStatus = status;
            }
            super.setStatus(status);
        }

        @Override
        public void sendError(int status) {
            setStatus(status);
        }

        @Override
        public void sendError(int status, String message) {
            setStatus(status);
        }

        @Override
        public ServletOutputStream getOutputStream() throws IOException {
            return refusedStatus != 0 ? DISCARD : super.getOutputStream();
        }

        @Override
        public PrintWriter getWriter() throws IOException {
            if (refusedStatus != 0) {
                return new PrintWriter(java.io.Writer.nullWriter());
            }
            if (writer == null) {
                String type = getContentType();
                writer = type != null && type.startsWith("text/event-stream")
                        ? streams.apply(super.getWriter())
                        : super.getWriter();
            }
            return writer;
        }

        @Override
        public void setContentLength(int length) {
            if (refusedStatus == 0) {
                super.setContentLength(length);
            }
        }

        @Override
        public void setContentLengthLong(long length) {
            if (refusedStatus == 0) {
                super.setContentLengthLong(length);
            }
        }

        @Override
        public void setHeader(String name, String value) {
            capture(name, value);
            super.setHeader(name, value);
        }

        @Override
        public void addHeader(String name, String value) {
            capture(name, value);
            super.addHeader(name, value);
        }

        private void capture(String name, String value) {
            if (sessions != null && !opened && "Mcp-Session-Id".equalsIgnoreCase(name) && value != null) {
                sessions.opened(value, owner);
                opened = true;
            }
        }
    }

    /** What the gate says for a status the SDK refused a request with: never the SDK's own text. */
    private static String sdkRefusal(int status) {
        return switch (status) {
            case 400 -> "the request is not a valid MCP request (its JSON-RPC message, parameters or headers)";
            case 404 -> "nothing is served here for this request";
            case 405 -> "the MCP endpoint does not allow this HTTP method";
            case 406 -> "the Accept header must allow application/json and text/event-stream";
            case 415 -> "the body must be application/json";
            default -> "the request was refused";
        };
    }

    /**
     * Hands each request in the body to the pipeline before the SDK sees it: a {@code tools/call}
     * to its admission step, any other method to its served-methods check. Answers the first
     * refusal, mapped to HTTP ({@code SCOPE_MISSING} is 403 {@code insufficient_scope}; another
     * call refusal is a 200 error result; an unserved method a JSON-RPC error), and returns false.
     * Every refusal is already audited by the pipeline.
     */
    private boolean admitRequests(
            JsonNode root, VerifiedToken caller, String session, Telemetry.Request transport, HttpServletResponse out)
            throws IOException {
        List<JsonNode> messages = new ArrayList<>();
        if (root != null && root.isArray()) {
            root.forEach(messages::add);
        } else if (root != null) {
            messages.add(root);
        }
        for (JsonNode message : messages) {
            if (!message.isObject() || !message.has("method") || !message.has("id")) {
                continue; // notifications and responses are the SDK's
            }
            String method = message.path("method").asString("");
            if (!"tools/call".equals(method)) {
                Decision served = settings.pipeline().checkMethod(method, session);
                if (!served.allowed()) {
                    answer(out, 200, message.get("id"), METHOD_NOT_FOUND, served.reason(), served.detail());
                    return false;
                }
                continue;
            }
            JsonNode params = message.path("params");
            String name = params.path("name").asString("");
            Optional<Pipeline.Refusal> refusal = settings.pipeline()
                    .screen(
                            name,
                            caller,
                            () -> Inbound.screened(
                                    name,
                                    params.path("arguments").isObject()
                                            ? JSON.convertValue(params.path("arguments"), ARGUMENTS)
                                            : null,
                                    session,
                                    caller,
                                    null,
                                    Inbound.telemetry(
                                            params.path("_meta").isObject()
                                                    ? JSON.convertValue(params.path("_meta"), ARGUMENTS)
                                                    : null,
                                            McpTransportContext.create(
                                                    Map.of(Inbound.TELEMETRY_CONTEXT_KEY, transport)))));
            if (refusal.isEmpty()) {
                continue;
            }
            Decision denied = refusal.get().decision();
            if (denied.reason() == ReasonCode.SCOPE_MISSING) {
                ToolPolicy tool =
                        settings.policy().tool(params.path("name").asString("")).orElseThrow();
                out.setHeader(
                        "WWW-Authenticate",
                        "Bearer error=\"insufficient_scope\", scope=\"" + String.join(" ", tool.scopes())
                                + "\", resource_metadata=\"" + settings.metadataUrl() + "\"");
                answer(out, 403, message.get("id"), INVALID_REQUEST, denied.reason(), denied.detail());
                return false;
            }
            out.setStatus(200);
            out.setContentType("application/json");
            Map<String, Object> reply = new LinkedHashMap<>();
            reply.put("jsonrpc", "2.0");
            reply.put("id", message.get("id"));
            reply.put("result", refusal.get().result());
            out.getOutputStream().write(JSON.writeValueAsBytes(reply));
            return false;
        }
        return true;
    }

    /**
     * The {@code WWW-Authenticate} challenge of a 401: the protected resource metadata, and the
     * scopes the resource's tools need, when any do.
     */
    private String challenge(Decision decision) {
        String metadataPart = "resource_metadata=\"" + settings.metadataUrl() + "\"";
        Set<String> scopes = new LinkedHashSet<>();
        settings.policy().tools().forEach(tool -> scopes.addAll(tool.scopes()));
        String scopePart = scopes.isEmpty() ? "" : ", scope=\"" + String.join(" ", scopes) + "\"";
        return decision.reason() == ReasonCode.TOKEN_MISSING
                ? "Bearer " + metadataPart + scopePart
                : "Bearer error=\"invalid_token\", error_description=\"" + headerSafe(decision.detail()) + "\", "
                        + metadataPart + scopePart;
    }

    private void refuse(
            HttpServletResponse out, int status, VerifiedToken caller, String tool, ReasonCode reason, String detail)
            throws IOException {
        refuse(out, status, caller, tool, reason, detail, INVALID_REQUEST);
    }

    /** Answers with {@code status} and a JSON-RPC error of {@code code} naming the reason, audited. */
    private void refuse(
            HttpServletResponse out,
            int status,
            VerifiedToken caller,
            String tool,
            ReasonCode reason,
            String detail,
            int code)
            throws IOException {
        audit(caller, tool, reason, "HTTP " + status + ": " + detail);
        answer(out, status, null, code, reason, detail);
    }

    /** Records a transport refusal through the server's audit gate. */
    private void audit(VerifiedToken caller, String tool, ReasonCode reason, String detail) {
        settings.pipeline()
                .audit(AuditEvent.transport(
                        settings.policy().server().name(),
                        null,
                        caller,
                        tool == null || tool.isEmpty() ? null : clip(tool),
                        Decision.deny(reason, detail)));
    }

    /**
     * Writes the HTTP status and a JSON-RPC error of {@code code} naming the reason, answering
     * {@code id} (a JSON-RPC id node, or {@code null}); audits nothing.
     */
    private static void answer(
            HttpServletResponse out, int status, JsonNode id, int code, ReasonCode reason, String detail)
            throws IOException {
        out.setStatus(status);
        out.setContentType("application/json");
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("code", code);
        error.put("message", reason.name() + ": " + detail);
        error.put("data", Map.of(REASON_KEY, reason.name()));
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("jsonrpc", "2.0");
        reply.put("id", id);
        reply.put("error", error);
        out.getOutputStream().write(JSON.writeValueAsBytes(reply));
    }

    private static byte[] metadataDocument(Settings settings) {
        Set<String> scopes = new LinkedHashSet<>();
        settings.policy().tools().forEach(tool -> scopes.addAll(tool.scopes()));
        Map<String, Object> document = new LinkedHashMap<>();
        document.put("resource", settings.resource());
        document.put("authorization_servers", settings.authorizationServers());
        document.put("scopes_supported", List.copyOf(scopes));
        document.put("bearer_methods_supported", List.of("header"));
        document.put("resource_name", settings.policy().server().name());
        return JSON.writeValueAsBytes(document);
    }

    /** The body, or {@code null} when it is longer than {@code max}; never buffers more than max + 1 bytes. */
    private static byte[] readCapped(InputStream in, long max) throws IOException {
        byte[] limited = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
        return limited.length > max ? null : limited;
    }

    /** A header parameter value: printable ASCII without quotes or backslashes, at most 200 characters. */
    static String headerSafe(String text) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length() && out.length() < 200; i++) {
            char c = text.charAt(i);
            out.append(c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? c : '\'');
        }
        return out.toString();
    }

    /** Client-sent text as messages and the audit show it: the one sanitizer, {@link Untrusted#text}. */
    static String clip(String text) {
        return Untrusted.text(text);
    }

    /** The request with its body already read. */
    private static final class BufferedBody extends HttpServletRequestWrapper {
        private final byte[] body;

        BufferedBody(HttpServletRequest request, byte[] body) {
            super(request);
            this.body = body;
        }

        @Override
        public ServletInputStream getInputStream() {
            ByteArrayInputStream in = new ByteArrayInputStream(body);
            return new ServletInputStream() {
                @Override
                public boolean isFinished() {
                    return in.available() == 0;
                }

                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setReadListener(ReadListener listener) {
                    throw new UnsupportedOperationException("the body was read before the transport");
                }

                @Override
                public int read() {
                    return in.read();
                }

                @Override
                public int read(byte[] buffer, int offset, int length) {
                    return in.read(buffer, offset, length);
                }
            };
        }

        @Override
        public BufferedReader getReader() {
            return new BufferedReader(new InputStreamReader(new ByteArrayInputStream(body), StandardCharsets.UTF_8));
        }

        @Override
        public int getContentLength() {
            return body.length;
        }

        @Override
        public long getContentLengthLong() {
            return body.length;
        }
    }
}
