/** Runnable mcp-secure samples. */
module dev.mcpsecure.samples {
    requires dev.mcpsecure.core;
    requires dev.mcpsecure.http;
    requires dev.mcpsecure.vault;
    requires jdk.httpserver;

    exports dev.mcpsecure.samples;
}
