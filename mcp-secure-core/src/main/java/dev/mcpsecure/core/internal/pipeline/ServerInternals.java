package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.core.SecureMcpServer;
import java.util.Objects;
import java.util.function.Function;

/**
 * How sibling modules' transports ({@code mcp-secure-http}) reach a built server's pipeline
 * without it being public API: {@link SecureMcpServer} grants the accessor when its class loads.
 * Not API; this package is exported only to named sibling modules.
 */
public final class ServerInternals {

    private static volatile Function<SecureMcpServer, Pipeline> pipelines;
    private static volatile Function<SecureMcpServer, GuardedStreamableProvider> sessions;

    private ServerInternals() {}

    /** Called once by {@link SecureMcpServer}. */
    public static void grant(
            Function<SecureMcpServer, Pipeline> pipelineOf,
            Function<SecureMcpServer, GuardedStreamableProvider> sessionsOf) {
        if (pipelines != null) {
            throw new IllegalStateException("already granted");
        }
        pipelines = Objects.requireNonNull(pipelineOf);
        sessions = Objects.requireNonNull(sessionsOf);
    }

    /** The streamable HTTP sessions of {@code server}, or {@code null} when it serves another transport. */
    public static GuardedStreamableProvider sessions(SecureMcpServer server) {
        return sessions.apply(Objects.requireNonNull(server, "server"));
    }

    /** The pipeline of {@code server}. */
    public static Pipeline pipeline(SecureMcpServer server) {
        return pipelines.apply(Objects.requireNonNull(server, "server"));
    }
}
