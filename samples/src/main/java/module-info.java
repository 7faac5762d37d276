/** Runnable mcp-secure samples. */
module dev.mcpsecure.samples {
    requires dev.mcpsecure.core;
    requires dev.mcpsecure.http;
    requires dev.mcpsecure.vault;
    requires dev.mcpsecure.otel;
    requires io.opentelemetry.sdk.autoconfigure;
    requires io.opentelemetry.sdk;
    requires jdk.httpserver;

    exports dev.mcpsecure.samples;
}
