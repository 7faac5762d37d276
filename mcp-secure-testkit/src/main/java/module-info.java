/**
 * Test fixtures for mcp-secure users and for mcp-secure itself: a recording audit sink, an
 * in-memory MCP transport pair, a launcher for the official Python MCP client, a loopback HTTP
 * target that counts connections, and a real OpenBao dev server. Depends on the
 * MCP SDK and the mcp-secure API only, never on the enforcement engine.
 */
module dev.mcpsecure.testkit {
    requires transitive dev.mcpsecure.api;
    requires transitive io.modelcontextprotocol.sdk.mcp.core;
    requires transitive reactor.core;
    requires org.reactivestreams;
    requires org.slf4j;
    requires java.net.http;
    requires transitive org.junit.jupiter.api;

    exports dev.mcpsecure.testkit;
}
