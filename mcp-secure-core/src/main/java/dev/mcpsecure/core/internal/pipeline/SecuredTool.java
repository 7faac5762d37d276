package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.api.ToolPolicy;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.Set;
import java.util.concurrent.Semaphore;

/**
 * One tool mcp-secure registered: its definition as listed, declared risks, policy, code and
 * concurrency permits. The checks a call of it passes are {@link Pipeline#call}'s, not its own.
 *
 * @param invoker the tool's code, or {@code null} for a stand-in of a tool the policy does not
 *     expose (never run)
 */
record SecuredTool(
        McpSchema.Tool definition,
        Set<RiskClass> declaredRisks,
        ToolPolicy policy,
        ToolInvoker invoker,
        Semaphore permits) {

    SecuredTool {
        declaredRisks = Set.copyOf(declaredRisks);
    }

    String name() {
        return definition.name();
    }
}
