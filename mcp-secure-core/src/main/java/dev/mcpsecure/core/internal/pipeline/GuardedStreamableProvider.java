package dev.mcpsecure.core.internal.pipeline;

import io.modelcontextprotocol.spec.McpStreamableServerSession;
import io.modelcontextprotocol.spec.McpStreamableServerTransportProvider;

/**
 * Wraps a streamable HTTP transport provider so that a {@code tools/list_changed} notification
 * from the SDK first lets the {@link ToolSurface} look at the changed tools, then goes to the
 * clients. Everything else is delegated unchanged; on HTTP the calls the surface refuses are
 * answered by the transport's gate ({@code SecureHttpServer}).
 */
public final class GuardedStreamableProvider extends SurfaceNotifyingProvider<McpStreamableServerTransportProvider>
        implements McpStreamableServerTransportProvider {

    public GuardedStreamableProvider(McpStreamableServerTransportProvider delegate, ToolSurface surface) {
        super(delegate, surface);
    }

    @Override
    public void setSessionFactory(McpStreamableServerSession.Factory factory) {
        delegate.setSessionFactory(factory);
    }
}
