/**
 * mcp-secure over streamable HTTP: {@code SecureHttpServer} hosts a secured MCP server in an
 * embedded Jetty with Host and Origin allowlists, a body cap, bearer-token authentication
 * (RFC 8707 audience, RFC 9728 metadata) and per-tool scopes.
 */
module dev.mcpsecure.http {
    requires transitive dev.mcpsecure.core;
    requires org.eclipse.jetty.server;
    requires org.eclipse.jetty.ee11.servlet;
    requires org.eclipse.jetty.util;
    requires jakarta.servlet;
    requires tools.jackson.databind;
    requires com.nimbusds.jose.jwt;
    requires org.slf4j;
    requires java.net.http;

    exports dev.mcpsecure.http;
}
