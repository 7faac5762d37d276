package dev.mcpsecure.api;

import dev.mcpsecure.api.internal.CurrentCall;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The tool call being served: who called which tool of which server, in which session, with which
 * arguments (as a digest), and until when. mcp-secure makes one for every {@code tools/call} before
 * any check runs, and every decision it records while the call runs (the call's own, and each file,
 * process, connection, token and secret the tool uses) carries its {@link #callId()}.
 *
 * <p>Tool code reads it with {@link #current()}: a sync tool on its own thread for the whole call,
 * an async tool while its handler function runs and in the Reactor context of the returned
 * {@code Mono} under the key {@code CallContext.class}.
 *
 * @param callId unique for the server's life, never reused
 * @param server the server identity's name
 * @param sessionId the MCP session, {@code none} when the transport has none
 * @param clientName the client's declared name, or {@code null}
 * @param clientVersion the client's declared version, or {@code null}
 * @param subject the verified token's subject, or {@code null} (stdio)
 * @param clientId the OAuth client the verified token was issued to, or {@code null}
 * @param tool the tool name as called (cut to 128 characters)
 * @param argumentsSha256 hex SHA-256 of the canonical JSON arguments
 * @param deadline when the call's timeout ends, or {@code null} before the tool is admitted
 */
public record CallContext(
        String callId,
        String server,
        String sessionId,
        String clientName,
        String clientVersion,
        String subject,
        String clientId,
        String tool,
        String argumentsSha256,
        Instant deadline) {

    /** Validates the required components. */
    public CallContext {
        Objects.requireNonNull(callId, "callId");
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(sessionId, "sessionId");
        Objects.requireNonNull(tool, "tool");
    }

    /** The call this thread serves, or empty outside any call. */
    public static Optional<CallContext> current() {
        return Optional.ofNullable(CurrentCall.context());
    }

    /** This context with {@code deadline}. */
    public CallContext withDeadline(Instant deadline) {
        return new CallContext(
                callId,
                server,
                sessionId,
                clientName,
                clientVersion,
                subject,
                clientId,
                tool,
                argumentsSha256,
                deadline);
    }
}
