package dev.mcpsecure.api;

import java.util.Set;

/**
 * Decides which tools are exposed and whether a call may start.
 *
 * <p>Implementations are thread-safe and never block: they are on the path of every call. They
 * return denials rather than throw them.
 */
public interface ToolGuard {

    /**
     * Whether a tool with these declared risk classes may be registered and listed.
     *
     * @return {@link ReasonCode#TOOL_NOT_ALLOWED} if the policy does not list {@code tool},
     *     {@link ReasonCode#RISK_NOT_ENABLED} if a declared class is not enabled for it, else allow
     */
    Decision checkExposure(String tool, Set<RiskClass> declaredRisks);

    /**
     * Whether {@code call} may start. Checks, in this order: the tool is listed, its risks are
     * enabled, the caller holds its scopes (on transports that authenticate), the arguments fit the size limit, the tool's rate
     * limit has room for this session.
     *
     * @return the first failing check's denial ({@link ReasonCode#TOOL_NOT_ALLOWED},
     *     {@link ReasonCode#RISK_NOT_ENABLED}, {@link ReasonCode#SCOPE_MISSING},
     *     {@link ReasonCode#ARGUMENTS_TOO_LARGE}, {@link ReasonCode#RATE_LIMITED}), else allow
     */
    Decision checkCall(ToolCall call);
}
