package dev.mcpsecure.core.internal.pipeline;

import io.modelcontextprotocol.common.McpTransportContext;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The connection a request came on, as its transport sees it: the transport calls {@link #end}
 * when the connection closes or fails, and whatever waits on the caller for that request (a
 * confirmation question) stops waiting. A transport puts it in the request's {@link
 * McpTransportContext} under {@link #TRANSPORT_CONTEXT_KEY}. Ending is idempotent. Thread-safe.
 */
public final class Connection {

    /** The {@link McpTransportContext} key of a request's connection. */
    public static final String TRANSPORT_CONTEXT_KEY = "dev.mcpsecure/connection";

    private final Sinks.One<String> ended = Sinks.one();

    /** Marks the connection ended, for the reason {@code why} (shown in refusals; no caller text). */
    public void end(String why) {
        ended.tryEmitValue(why);
    }

    /** Emits the reason once the connection ended; never completes empty. */
    Mono<String> ended() {
        return ended.asMono();
    }

    /** The connection of {@code context}'s request, or {@code null} when its transport names none. */
    static Connection of(McpTransportContext context) {
        return context != null && context.get(TRANSPORT_CONTEXT_KEY) instanceof Connection connection
                ? connection
                : null;
    }
}
