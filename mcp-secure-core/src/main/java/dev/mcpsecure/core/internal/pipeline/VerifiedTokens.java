package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.ToolPolicy;
import dev.mcpsecure.api.VerifiedToken;
import io.modelcontextprotocol.common.McpTransportContext;
import java.util.Optional;

/** The caller's verified token as an authenticating transport left it in the transport context. */
public final class VerifiedTokens {

    private VerifiedTokens() {}

    /** The caller's token, or {@code null} when the transport does not authenticate callers (stdio). */
    public static VerifiedToken of(McpTransportContext context) {
        return context != null && context.get(VerifiedToken.TRANSPORT_CONTEXT_KEY) instanceof VerifiedToken token
                ? token
                : null;
    }

    /**
     * Whether the caller may see tool {@code name}: always without authentication; with it, the
     * caller's scopes must contain every scope the tool's policy requires.
     */
    public static boolean grants(McpTransportContext context, SecurityPolicy policy, String name) {
        VerifiedToken caller = of(context);
        if (caller == null) {
            return true;
        }
        Optional<ToolPolicy> tool = policy.tool(name);
        return tool.isPresent() && caller.scopes().containsAll(tool.get().scopes());
    }
}
