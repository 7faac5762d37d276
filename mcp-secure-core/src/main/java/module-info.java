/**
 * mcp-secure enforcement: the policy loader, the secure server with its one call pipeline and
 * audit gate, the file, command and egress guards, and the JWS header rules that the HTTP
 * module's bearer verifier and the Vault module share.
 */
@SuppressWarnings("module") // qualified exports name sibling modules built after this one
module dev.mcpsecure.core {
    requires transitive dev.mcpsecure.api;
    requires tools.jackson.core;
    requires tools.jackson.databind;
    requires tools.jackson.dataformat.yaml;
    requires transitive org.slf4j;
    requires transitive io.modelcontextprotocol.sdk.mcp.core;
    requires transitive reactor.core;
    requires org.reactivestreams;
    requires okhttp3;
    requires com.nimbusds.jose.jwt;
    requires java.net.http;
    requires com.fasterxml.jackson.annotation;

    exports dev.mcpsecure.core;
    // the call pipeline, for the HTTP transport's adapter; not API
    exports dev.mcpsecure.core.internal.pipeline to
            dev.mcpsecure.http;
    // the JWS header rules shared with the bearer verifier (http) and the identity-token check
    // (vault); not API
    exports dev.mcpsecure.core.internal.jwt to
            dev.mcpsecure.vault,
            dev.mcpsecure.http;
}
