package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.Limits;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.ToolCall;
import dev.mcpsecure.api.ToolGuard;
import dev.mcpsecure.api.ToolPolicy;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * The {@link ToolGuard} a {@link SecurityPolicy} defines. Thread-safe; never blocks.
 */
public final class PolicyToolGuard implements ToolGuard {

    private final Map<String, ToolPolicy> tools = new HashMap<>();
    private final Map<String, RateLimiter> rates = new HashMap<>();
    private final Limits limits;
    private final LongSupplier nanoClock;

    /** @param nanoClock a monotonic clock in nanoseconds, {@code System::nanoTime} outside tests */
    public PolicyToolGuard(SecurityPolicy policy, LongSupplier nanoClock) {
        this.limits = policy.limits();
        this.nanoClock = nanoClock;
        for (ToolPolicy tool : policy.tools()) {
            tools.put(tool.name(), tool);
            rates.put(tool.name(), new RateLimiter(tool.rateLimit()));
        }
    }

    @Override
    public Decision checkExposure(String tool, Set<RiskClass> declaredRisks) {
        ToolPolicy policy = tools.get(tool);
        if (policy == null) {
            return Decision.deny(
                    ReasonCode.TOOL_NOT_ALLOWED, "tool '" + tool + "' is not allowed by the server's policy");
        }
        if (!policy.enables(declaredRisks)) {
            EnumSet<RiskClass> missing =
                    declaredRisks.isEmpty() ? EnumSet.noneOf(RiskClass.class) : EnumSet.copyOf(declaredRisks);
            missing.removeAll(policy.risks());
            return Decision.deny(
                    ReasonCode.RISK_NOT_ENABLED,
                    "tool '" + tool + "' needs risk " + missing + ", which the server's policy does not enable for it");
        }
        return Decision.allow();
    }

    @Override
    public Decision checkCall(ToolCall call) {
        Decision decision = checkExposure(call.tool(), call.declaredRisks());
        if (decision.allowed() && call.grantedScopes().isPresent()) {
            decision = checkScopes(call.tool(), call.grantedScopes().get());
        }
        if (decision.allowed()) {
            decision = checkArgumentSize(call.argumentBytes());
        }
        return decision.allowed() ? checkRate(call.tool(), call.sessionId()) : decision;
    }

    /** Whether {@code granted} holds every scope the exposed tool {@code tool} requires. */
    public Decision checkScopes(String tool, Set<String> granted) {
        if (!granted.containsAll(tools.get(tool).scopes())) {
            return Decision.deny(
                    ReasonCode.SCOPE_MISSING, "the caller's token lacks a scope tool '" + tool + "' requires");
        }
        return Decision.allow();
    }

    /** Whether arguments of {@code bytes} (canonical JSON) are within the policy's limit. */
    public Decision checkArgumentSize(long bytes) {
        if (bytes > limits.maxArgumentBytes()) {
            return Decision.deny(
                    ReasonCode.ARGUMENTS_TOO_LARGE,
                    "arguments of " + bytes + " bytes exceed the limit of " + limits.maxArgumentBytes());
        }
        return Decision.allow();
    }

    /** Takes one call of the exposed tool {@code tool} from {@code session}'s rate allowance. */
    public Decision checkRate(String tool, String session) {
        if (!rates.get(tool).tryAcquire(session, nanoClock.getAsLong())) {
            return Decision.deny(
                    ReasonCode.RATE_LIMITED,
                    "tool '" + tool + "' is over its rate limit of "
                            + tools.get(tool).rateLimit() + " for this caller; try again later");
        }
        return Decision.allow();
    }

    /** The policy of a tool {@link #checkExposure} allows. */
    ToolPolicy policy(String tool) {
        return tools.get(tool);
    }
}
