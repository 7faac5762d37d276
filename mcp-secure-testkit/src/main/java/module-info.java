/**
 * Test fixtures for mcp-secure users and for mcp-secure itself: a recording audit sink now; the
 * real OpenBao launcher and MCP test clients as their issues land.
 */
module dev.mcpsecure.testkit {
    requires transitive dev.mcpsecure.api;

    exports dev.mcpsecure.testkit;
}
