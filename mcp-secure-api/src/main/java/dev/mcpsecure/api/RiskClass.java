package dev.mcpsecure.api;

/**
 * What a tool can do to the world. A tool declares its risk classes when it is registered; the
 * policy enables risk classes per tool, and a tool is exposed only when every class it declares is
 * enabled for it.
 */
public enum RiskClass {
    /** Reads only; no side effects. Always enabled for a listed tool. */
    READ_ONLY,
    /** Creates, changes or deletes files. */
    FS_WRITE,
    /** Runs programs. */
    EXEC,
    /** Makes outbound network connections. */
    NETWORK,
    /** Administers accounts, infrastructure or the server itself. */
    ADMIN
}
