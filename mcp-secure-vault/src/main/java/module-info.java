/**
 * HashiCorp Vault and OpenBao for mcp-secure: per-server login, short-lived audience-bound identity
 * tokens and KV secrets on demand. The implementation lands with the vault issue; until then this
 * module holds only its package.
 */
module dev.mcpsecure.vault {
    requires transitive dev.mcpsecure.core;

    exports dev.mcpsecure.vault;
}
