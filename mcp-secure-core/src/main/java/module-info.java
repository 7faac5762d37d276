/**
 * mcp-secure enforcement: the policy loader, and (as they land) the secure server wrapper, the
 * guards, the egress client, token verification and audit sinks.
 */
module dev.mcpsecure.core {
    requires transitive dev.mcpsecure.api;
    requires tools.jackson.core;
    requires tools.jackson.databind;
    requires tools.jackson.dataformat.yaml;
    requires org.slf4j;

    exports dev.mcpsecure.core;
}
