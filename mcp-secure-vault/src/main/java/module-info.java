/**
 * HashiCorp Vault and OpenBao for mcp-secure: per-server login ({@code VaultLogin}), short-lived
 * audience-bound identity tokens ({@code VaultTokenSource}) and KV v2 secrets on demand
 * ({@code VaultSecretSource}), through the Vault Java Driver.
 */
module dev.mcpsecure.vault {
    // The API's types (SecurityPolicy, TokenSource, SecretSource...) are in vault's signatures.
    requires transitive dev.mcpsecure.api;
    // Only for Lockfile's signature file and the shared JWS header rules: not transitive, so vault
    // users do not read the core (nor OkHttp, Jackson or the MCP SDK) through vault.
    requires dev.mcpsecure.core;
    requires org.slf4j;
    requires vault.java.driver;
    requires com.nimbusds.jose.jwt;
    requires java.net.http;

    exports dev.mcpsecure.vault;
}
