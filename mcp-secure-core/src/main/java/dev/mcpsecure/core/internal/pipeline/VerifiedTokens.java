package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.api.VerifiedToken;
import io.modelcontextprotocol.common.McpTransportContext;

/** The caller's verified token as an authenticating transport left it in the transport context. */
public final class VerifiedTokens {

    private VerifiedTokens() {}

    /** The caller's token, or {@code null} when the transport does not authenticate callers (stdio). */
    public static VerifiedToken of(McpTransportContext context) {
        return context != null && context.get(VerifiedToken.TRANSPORT_CONTEXT_KEY) instanceof VerifiedToken token
                ? token
                : null;
    }
}
