/**
 * HashiCorp Vault and OpenBao for mcp-secure: per-server login ({@code VaultLogin}), short-lived
 * audience-bound identity tokens ({@code VaultTokenSource}) and KV v2 secrets on demand
 * ({@code VaultSecretSource}), through the Vault Java Driver.
 */
module dev.mcpsecure.vault {
    requires transitive dev.mcpsecure.core;
    requires vault.java.driver;
    requires com.nimbusds.jose.jwt;
    requires java.net.http;

    exports dev.mcpsecure.vault;
}
