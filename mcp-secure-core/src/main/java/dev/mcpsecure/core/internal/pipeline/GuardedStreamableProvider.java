package dev.mcpsecure.core.internal.pipeline;

import io.modelcontextprotocol.spec.McpStreamableServerSession;
import io.modelcontextprotocol.spec.McpStreamableServerTransportProvider;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;

/**
 * Wraps a streamable HTTP transport provider: a {@code tools/list_changed} notification from the
 * SDK first lets the {@link ToolSurface} look at the changed tools, then goes to the clients; the
 * sessions the SDK starts are known here by id, so the HTTP transport can end an idle one ({@link
 * #end}) in-process; a session that ends, by {@link #end} or its client's DELETE ({@link #forget}),
 * ends the confirmation questions waiting in it ({@link Pipeline#sessionEnded}). Calls are handed to the pipeline by the transport's gate ({@code
 * SecureHttpServer}). Thread-safe.
 */
public final class GuardedStreamableProvider extends SurfaceNotifyingProvider<McpStreamableServerTransportProvider>
        implements McpStreamableServerTransportProvider {

    private final Map<String, McpStreamableServerSession> sessions = new ConcurrentHashMap<>();

    private final Pipeline pipeline;
    private volatile IntSupplier live;

    public GuardedStreamableProvider(
            McpStreamableServerTransportProvider delegate, ToolSurface surface, Pipeline pipeline) {
        super(delegate, surface);
        this.pipeline = pipeline;
    }

    @Override
    public void setSessionFactory(McpStreamableServerSession.Factory factory) {
        delegate.setSessionFactory(init -> {
            McpStreamableServerSession.McpStreamableServerSessionInit started = factory.startSession(init);
            sessions.put(started.session().getId(), started.session());
            return started;
        });
    }

    /**
     * Ends session {@code id} as a client's {@code DELETE} would: its streams close and the SDK
     * drops it at its next sweep (it holds no open stream and is no longer active). Nothing when
     * the session is unknown or already ended.
     */
    public void end(String id) {
        McpStreamableServerSession session = sessions.remove(id);
        pipeline.sessionEnded(id);
        if (session != null) {
            session.delete().onErrorComplete().subscribe();
        }
    }

    /** Counts live sessions with {@code count} (the transport's own table); for telemetry. */
    public void countLiveWith(IntSupplier count) {
        this.live = count;
    }

    /** Live sessions: the transport's count when it gave one, else the sessions known here. */
    public int live() {
        IntSupplier count = live;
        return count == null ? sessions.size() : count.getAsInt();
    }

    /** Forgets {@code id}: its client deleted it. */
    public void forget(String id) {
        sessions.remove(id);
        pipeline.sessionEnded(id);
    }
}
