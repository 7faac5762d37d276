/**
 * The mcp-secure policy model, decisions, guard interfaces and service-provider interfaces.
 *
 * <p>This module has no dependencies beyond {@code java.base}: it can be used by tools, guards and
 * sinks without pulling in the enforcement engine.
 */
@SuppressWarnings("module") // the qualified export names a module this one cannot see (it depends on this one)
module dev.mcpsecure.api {
    exports dev.mcpsecure.api;
    exports dev.mcpsecure.api.internal to
            dev.mcpsecure.core;
}
