package dev.mcpsecure.api;

/**
 * Why a decision came out as it did. The constant names are the stable codes that clients, audit
 * consumers and tests match on: they are never renamed or reused, only added.
 */
public enum ReasonCode {
    /** The call or operation is allowed. */
    ALLOWED,

    // tool calls
    /** The tool is not named in the policy. */
    TOOL_NOT_ALLOWED,
    /** The tool declares a risk class the policy does not enable for it. */
    RISK_NOT_ENABLED,
    /** The caller's token lacks a scope the tool requires. */
    SCOPE_MISSING,
    /** The call's arguments exceed the policy's size limit. */
    ARGUMENTS_TOO_LARGE,
    /** The tool's or session's call rate is over its limit. */
    RATE_LIMITED,
    /** The tool, or the server, already runs its maximum number of concurrent calls. */
    CONCURRENCY_LIMITED,
    /** The user declined or cancelled the confirmation of a risky call. */
    USER_DECLINED,
    /** Confirmation is required but the client cannot ask the user (no elicitation). */
    CONFIRMATION_UNAVAILABLE,
    /** The tool, program or request did not finish within its timeout. */
    TIMEOUT,
    /** The tool's output exceeds the policy's size limit. */
    OUTPUT_TOO_LARGE,
    /** The tool failed; details are in the server log under the incident id, never in the result. */
    TOOL_FAILED,
    /**
     * The tool's definition differs from its pin in the lockfile, is not in the lockfile, declares a
     * risk class the lockfile does not list, or was replaced at runtime outside mcp-secure.
     */
    TOOL_DEFINITION_CHANGED,

    // filesystem
    /** The path is not inside any filesystem root. */
    PATH_OUTSIDE_ROOTS,
    /**
     * The path resolves, through a symbolic link, to a place outside the roots; or a component of
     * it changed while it was being opened (a symbolic link or another file swapped in after the
     * check), which is never followed.
     */
    PATH_SYMLINK_ESCAPE,
    /** The operation needs write access but the root is read-only. */
    PATH_READ_ONLY,
    /** The path matches a deny pattern for sensitive files (compared ignoring case). */
    PATH_SENSITIVE,
    /**
     * The path is malformed (control characters, NUL, too long, too deep), cannot be resolved (a
     * symbolic link loop), or uses a file that is not a directory as a directory ({@code a.txt/b}).
     */
    PATH_INVALID,
    /** The file is larger than the policy allows. */
    FILE_TOO_LARGE,

    // commands
    /** The program is not in the policy. */
    COMMAND_NOT_ALLOWED,
    /** An argument, flag or subcommand does not match the program's argv rules. */
    ARGUMENT_NOT_ALLOWED,
    /** An environment variable is not in the program's allowlist. */
    ENV_NOT_ALLOWED,
    /** The working directory is outside the filesystem roots. */
    CWD_OUTSIDE_ROOTS,
    /** The program's binary no longer matches its SHA-256 pin. */
    BINARY_CHANGED,

    // egress
    /** No egress rule matches the host, port and path. */
    EGRESS_HOST_NOT_ALLOWED,
    /** The address connected to is loopback, private, link-local or otherwise blocked. */
    EGRESS_ADDRESS_BLOCKED,
    /** The URL's scheme is not allowed by the matching rule. */
    EGRESS_SCHEME_NOT_ALLOWED,
    /** A redirect leads somewhere the policy does not allow. */
    EGRESS_REDIRECT_BLOCKED,
    /** The response body exceeds the size limit. */
    RESPONSE_TOO_LARGE,

    // tokens
    /** A token would be sent to a host whose rule does not carry the token's audience. */
    TOKEN_AUDIENCE_MISMATCH,
    /** The audience is not configured in the token policy. */
    TOKEN_AUDIENCE_UNKNOWN,
    /** A bearer token is missing. */
    TOKEN_MISSING,
    /** A bearer token is malformed, badly signed, expired or not meant for this server. */
    TOKEN_INVALID,
    /** The secret name is not mapped in the policy, or no secret source is configured. */
    SECRET_UNKNOWN,
    /** The vault could not be reached in time and no valid cached credential remains. */
    VAULT_UNAVAILABLE,

    // transport and audit
    /** A message on the transport is not valid JSON-RPC. */
    MALFORMED_MESSAGE,
    /** The audit sink failed, so the call was not allowed to proceed unrecorded. */
    AUDIT_UNAVAILABLE,
    /** An HTTP request's {@code Host} is not this server's (DNS rebinding). */
    HOST_NOT_ALLOWED,
    /** An HTTP request's {@code Origin} is not in the transport policy's allowed origins. */
    ORIGIN_NOT_ALLOWED,
    /** An HTTP request names an {@code MCP-Protocol-Version} the server does not speak. */
    PROTOCOL_VERSION_UNSUPPORTED,
    /** An HTTP request body is over the transport's size cap. */
    REQUEST_TOO_LARGE,

    // runtime
    /** The start-up check of the server's own runtime found a failing item. */
    PREFLIGHT_FAILED,

    // tool surface (added after the sections above; codes are only ever appended)
    /**
     * The tool's definition holds text or characters that look like tool poisoning (hidden
     * characters, instructions to the model, mentions of other tools, unlisted URLs).
     */
    TOOL_DEFINITION_SUSPICIOUS,
    /** The lockfile is missing, malformed, or its required signature is missing or does not verify. */
    LOCKFILE_INVALID,

    // HTTP sessions
    /** An HTTP request names an MCP session the server does not have: never created, deleted or expired. */
    SESSION_UNKNOWN,
    /** An HTTP {@code initialize} would open more live sessions than the transport policy allows. */
    SESSION_LIMIT,

    // requests (added with the call pipeline)
    /** A tool call's arguments do not match the tool's input schema. */
    ARGUMENTS_INVALID,
    /** A request names a method this server does not serve. */
    METHOD_NOT_SERVED,
    /**
     * An HTTP request names a live MCP session that another principal owns; the caller is answered
     * as for an unknown session ({@link #SESSION_UNKNOWN}), the audit record says which.
     */
    SESSION_NOT_OWNED,
    /**
     * A JSON-RPC response answers no request the server is waiting for in that session: an id it
     * never sent, one already answered, or one whose wait ended.
     */
    RESPONSE_UNEXPECTED,

    // filesystem, added with held root handles
    /**
     * A filesystem root is no longer the directory opened when the file access was made: it was
     * moved, or replaced by another directory or by a symbolic link. Nothing is reached through
     * the path that now has the root's name; the operation is refused until the original
     * directory is back under it.
     */
    ROOT_REPLACED,
    /**
     * The path names a FIFO, socket or device, or something that is one was put in its place
     * while it was being opened (an open that did not complete within its bound counts as such).
     * Only regular files are read or written, and nothing else is ever opened.
     */
    FILE_NOT_REGULAR,
    /**
     * The regular file has more than one hard link, so it may be the same file as one outside the
     * roots or one the deny list covers, and the policy does not set {@code allowHardLinks}.
     */
    FILE_HARD_LINKED
}
