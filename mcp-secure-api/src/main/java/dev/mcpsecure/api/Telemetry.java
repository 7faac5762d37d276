package dev.mcpsecure.api;

import java.util.Map;
import java.util.Objects;

/**
 * What a server tells a tracing and metrics backend about its work ({@code mcp-secure-otel}
 * implements it on OpenTelemetry). The server calls it; it decides nothing: every decision is
 * made and audited before it hears of it, and it cannot change one.
 *
 * <p>Contract for implementations: every method returns quickly, never blocks on I/O and never
 * throws (the server catches and drops what it throws, so a broken exporter cannot refuse a
 * call); thread-safe, called from any thread. {@link #NONE}, the default, does nothing.
 */
public interface Telemetry {

    /** Telemetry that records nothing. */
    Telemetry NONE = (call, request) -> Observation.NONE;

    /**
     * A request starts being served: for a {@code tools/call}, once its {@link CallContext}
     * exists (before any step decides). The returned observation is ended exactly once: by {@link
     * Observation#end} with the call's one audit record, or by {@link Observation#abandon}. A
     * call naming no tool of the server is given with the tool {@code _unknown} (the name the
     * client sent stays in the audit record), so names a client makes up never reach telemetry.
     */
    Observation start(CallContext call, Request request);

    /**
     * A record passed the server's audit door ({@code written}: the sink took it in time); called
     * for every record of the server: calls, effects, transport refusals, malformed messages,
     * start-up, the tool surface.
     */
    default void recorded(AuditEvent record, boolean written) {}

    /**
     * A token for {@code audience} was handed to a tool: {@code minted} when the token source
     * made it for this request, else a token handed out before (cached).
     */
    default void tokenIssued(String audience, boolean minted) {}

    /** How the running server can be read, given once when it is built; for gauges. */
    default void serving(ServerState state) {}

    /**
     * What the transport knows of a request.
     *
     * @param method the MCP method, such as {@code tools/call}
     * @param transport {@code pipe} (stdio) or {@code tcp} (HTTP), as the semantic conventions
     *     name them
     * @param protocolVersion the MCP protocol version when the transport knows it, else {@code null}
     * @param carrier trace context the request carried: {@code traceparent}, {@code tracestate}
     *     and {@code baggage} from {@code params._meta}, else from the HTTP headers; never {@code
     *     null}
     */
    record Request(String method, String transport, String protocolVersion, Map<String, String> carrier) {
        /** Copies {@code carrier}. */
        public Request {
            Objects.requireNonNull(method, "method");
            Objects.requireNonNull(transport, "transport");
            carrier = Map.copyOf(carrier);
        }
    }

    /** One request being served. Thread-safe: effects may come from the tool's threads. */
    interface Observation {

        /** An observation that records nothing. */
        Observation NONE = new Observation() {};

        /**
         * Entries an outgoing HTTP request made within this call carries as headers (the W3C
         * trace context of the call), so the API it calls joins the trace; empty for none.
         */
        default Map<String, String> propagation() {
            return Map.of();
        }

        /** An effect of the call (a file, a process, a connection, a token, a secret) was recorded. */
        default void effect(AuditEvent effect) {}

        /** The call ended with {@code record}, its one audit record. */
        default void end(AuditEvent record) {}

        /**
         * The call ended without a record: it was cancelled, or a step failed before the record
         * was made. Called instead of {@link #end}, at most once.
         */
        default void abandon() {}
    }

    /** The live state of a running server. */
    interface ServerState {
        /** The server's name in its policy. */
        String server();

        /** Audit records written, failed and dropped since start. */
        long auditRecorded();

        /** @see #auditRecorded() */
        long auditFailed();

        /** @see #auditRecorded() */
        long auditDropped();

        /** Live sessions on a transport that has them (HTTP), else -1. */
        int liveSessions();
    }
}
