/** Runnable mcp-secure samples. */
module dev.mcpsecure.samples {
    requires dev.mcpsecure.core;
    requires jdk.httpserver;

    exports dev.mcpsecure.samples;
}
