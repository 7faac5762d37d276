package dev.mcpsecure.api;

import java.util.List;
import java.util.Map;

/**
 * Decides whether a program may run with an argument vector, environment and working directory.
 * Nothing is ever run through a shell.
 *
 * <p>Implementations are thread-safe and have no side effects: they decide, and the caller runs.
 */
public interface CommandGuard {

    /**
     * @param program the program's logical name in the policy
     * @param args the arguments, without the program itself
     * @param env the environment variables the caller wants to pass
     * @param workingDirectory the requested working directory, as the client sent it
     * @return a denial with {@link ReasonCode#COMMAND_NOT_ALLOWED},
     *     {@link ReasonCode#ARGUMENT_NOT_ALLOWED}, {@link ReasonCode#ENV_NOT_ALLOWED},
     *     {@link ReasonCode#CWD_OUTSIDE_ROOTS} or {@link ReasonCode#BINARY_CHANGED}; for a URL argument
     *     the egress rules refuse, their reason ({@link ReasonCode#EGRESS_HOST_NOT_ALLOWED}, {@link
     *     ReasonCode#EGRESS_SCHEME_NOT_ALLOWED}, {@link ReasonCode#EGRESS_ADDRESS_BLOCKED}); else allow
     */
    Decision check(String program, List<String> args, Map<String, String> env, String workingDirectory);
}
