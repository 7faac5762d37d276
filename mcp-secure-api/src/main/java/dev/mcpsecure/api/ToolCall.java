package dev.mcpsecure.api;

import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One tool call as the guards see it, before the tool runs.
 *
 * @param tool the tool's name
 * @param declaredRisks the risk classes the tool declared when registered
 * @param grantedScopes the scopes of the caller's verified token; empty (no set at all) when the
 *     transport authenticates no one, as stdio, where the local user who started the server is the
 *     caller and tool scopes do not apply
 * @param sessionId the MCP session, for per-session limits
 * @param argumentBytes the size of the call's arguments as canonical JSON
 */
public record ToolCall(
        String tool,
        Set<RiskClass> declaredRisks,
        Optional<Set<String>> grantedScopes,
        String sessionId,
        long argumentBytes) {

    /** Validates and copies. */
    public ToolCall {
        Objects.requireNonNull(tool, "tool");
        Objects.requireNonNull(sessionId, "sessionId");
        declaredRisks = Set.copyOf(declaredRisks);
        grantedScopes = grantedScopes.map(Set::copyOf);
        if (argumentBytes < 0) {
            throw new IllegalArgumentException("argumentBytes must be 0 or more but was " + argumentBytes);
        }
    }
}
