/** Runnable mcp-secure samples. */
module dev.mcpsecure.samples {
    requires dev.mcpsecure.core;

    exports dev.mcpsecure.samples;
}
