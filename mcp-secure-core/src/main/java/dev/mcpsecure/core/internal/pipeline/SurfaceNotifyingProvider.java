package dev.mcpsecure.core.internal.pipeline;

import io.modelcontextprotocol.spec.McpServerTransportProviderBase;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * What the stdio and the streamable HTTP provider wrappers share: every call goes to the SDK's
 * provider, and a {@code tools/list_changed} notification first lets the {@link ToolSurface} look
 * at the changed tools, then goes to the clients. Subclasses add the session factory of their
 * SDK interface.
 *
 * @param <P> the SDK provider interface wrapped
 */
abstract class SurfaceNotifyingProvider<P extends McpServerTransportProviderBase>
        implements McpServerTransportProviderBase {

    final P delegate;
    final ToolSurface surface;

    SurfaceNotifyingProvider(P delegate, ToolSurface surface) {
        this.delegate = delegate;
        this.surface = surface;
    }

    @Override
    public final Mono<Void> notifyClients(String method, Object params) {
        surface.beforeNotifying(method);
        return delegate.notifyClients(method, params);
    }

    @Override
    public final Mono<Void> notifyClient(String sessionId, String method, Object params) {
        return delegate.notifyClient(sessionId, method, params);
    }

    @Override
    public final void close() {
        delegate.close();
    }

    @Override
    public final Mono<Void> closeGracefully() {
        return delegate.closeGracefully();
    }

    @Override
    public final List<String> protocolVersions() {
        return delegate.protocolVersions();
    }
}
