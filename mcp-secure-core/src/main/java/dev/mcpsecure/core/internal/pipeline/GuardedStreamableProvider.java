package dev.mcpsecure.core.internal.pipeline;

import io.modelcontextprotocol.spec.McpStreamableServerSession;
import io.modelcontextprotocol.spec.McpStreamableServerTransportProvider;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * Wraps a streamable HTTP transport provider so that a {@code tools/list_changed} notification
 * from the SDK first lets the {@link ToolSurface} look at the changed tools, then goes to the
 * clients. Everything else is delegated unchanged; on HTTP the calls the surface refuses are
 * answered by the transport's gate ({@code SecureHttpServer}).
 */
public final class GuardedStreamableProvider implements McpStreamableServerTransportProvider {

    private final McpStreamableServerTransportProvider delegate;
    private final ToolSurface surface;

    public GuardedStreamableProvider(McpStreamableServerTransportProvider delegate, ToolSurface surface) {
        this.delegate = delegate;
        this.surface = surface;
    }

    @Override
    public void setSessionFactory(McpStreamableServerSession.Factory factory) {
        delegate.setSessionFactory(factory);
    }

    @Override
    public Mono<Void> notifyClients(String method, Object params) {
        surface.beforeNotifying(method);
        return delegate.notifyClients(method, params);
    }

    @Override
    public Mono<Void> notifyClient(String sessionId, String method, Object params) {
        return delegate.notifyClient(sessionId, method, params);
    }

    @Override
    public void close() {
        delegate.close();
    }

    @Override
    public Mono<Void> closeGracefully() {
        return delegate.closeGracefully();
    }

    @Override
    public List<String> protocolVersions() {
        return delegate.protocolVersions();
    }
}
