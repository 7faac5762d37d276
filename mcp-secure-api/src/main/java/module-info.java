/**
 * The mcp-secure policy model, decisions, guard interfaces and service-provider interfaces.
 *
 * <p>This module has no dependencies beyond {@code java.base}: it can be used by tools, guards and
 * sinks without pulling in the enforcement engine.
 */
module dev.mcpsecure.api {
    exports dev.mcpsecure.api;
}
