package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP-API sample, started as a real process from the packaged jar with its policy pointed
 * at a {@link SampleApi} on a free loopback port, driven by the official Python MCP client: the
 * allowed API answers; SSRF to the metadata address, other paths, encoded addresses, other
 * schemes and a redirect to the metadata address are refused with their reason codes; proxy
 * settings in the environment are ignored.
 */
class HttpApiServerIT {

    @TempDir
    Path tmp;

    @Test
    void fetchesTheAllowedApiAndRefusesEverythingElse() throws Exception {
        try (SampleApi api = SampleApi.start(0);
                ServerSocket proxy = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            AtomicInteger proxied = countConnections(proxy);
            String proxyUrl = "http://127.0.0.1:" + proxy.getLocalPort();
            // Proxy settings a careless client would honour: the variables, and JVM properties via JAVA_TOOL_OPTIONS.
            Map<String, String> env = Map.of(
                    "HTTP_PROXY",
                    proxyUrl,
                    "HTTPS_PROXY",
                    proxyUrl,
                    "http_proxy",
                    proxyUrl,
                    "https_proxy",
                    proxyUrl,
                    "ALL_PROXY",
                    proxyUrl,
                    "JAVA_TOOL_OPTIONS",
                    "-Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=" + proxy.getLocalPort()
                            + " -Djava.net.useSystemProxies=true");
            int port = api.port();
            Path policy = SamplePolicy.copy(
                    tmp, "http-api.yaml", text -> text.replace("port: " + SampleApi.DEFAULT_PORT, "port: " + port));
            String base = "http://127.0.0.1:" + port;
            PythonDriver.Run run = PythonDriver.drive(
                    PythonDriver.command("dev.mcpsecure.samples.HttpApiServer", "--policy", policy.toString()),
                    "none",
                    List.of(
                            fetch(base + "/v1/weather?city=Oslo"),
                            fetch("http://169.254.169.254/latest/meta-data/iam/"),
                            fetch(base + "/admin"),
                            fetch("http://2130706433:" + port + "/v1/weather"),
                            fetch("http://localhost:" + port + "/v1/weather"),
                            fetch("file:///etc/passwd"),
                            fetch(base + "/v1/moved")),
                    env);

            List<Map<String, Object>> calls = run.calls();
            assertThat(PythonDriver.text(calls.get(0))).contains("\"city\":\"Oslo\"", "sunny");
            PythonDriver.assertDenied(calls.get(1), "EGRESS_HOST_NOT_ALLOWED");
            PythonDriver.assertDenied(calls.get(2), "EGRESS_HOST_NOT_ALLOWED");
            PythonDriver.assertDenied(calls.get(3), "EGRESS_HOST_NOT_ALLOWED");
            PythonDriver.assertDenied(calls.get(4), "EGRESS_HOST_NOT_ALLOWED");
            PythonDriver.assertDenied(calls.get(5), "EGRESS_SCHEME_NOT_ALLOWED");
            PythonDriver.assertDenied(calls.get(6), "EGRESS_REDIRECT_BLOCKED");
            assertThat(PythonDriver.text(calls.get(0))).doesNotContain("admin area");

            List<String> expected = List.of(
                    "ALLOWED",
                    "EGRESS_HOST_NOT_ALLOWED",
                    "EGRESS_HOST_NOT_ALLOWED",
                    "EGRESS_HOST_NOT_ALLOWED",
                    "EGRESS_HOST_NOT_ALLOWED",
                    "EGRESS_SCHEME_NOT_ALLOWED",
                    "EGRESS_REDIRECT_BLOCKED");
            assertThat(run.callRecords())
                    .as("one call record per call, in order")
                    .extracting(line -> line.get("reason"))
                    .containsExactlyElementsOf(expected);
            assertThat(run.effectRecords("egress"))
                    .as("one egress effect per call, in order")
                    .extracting(line -> line.get("reason"))
                    .containsExactlyElementsOf(expected);
            assertThat(AuditRecords.values(run.effectRecords("egress"), "callId"))
                    .as("each egress effect belongs to the call it decided")
                    .containsExactlyElementsOf(AuditRecords.values(run.callRecords(), "callId"));
            AuditRecords.assertEffectsCarryTheirCall(run.audit(), "egress", "token");
            assertThat(proxied)
                    .as("connections through the proxy the environment names")
                    .hasValue(0);
        }
    }

    private static AtomicInteger countConnections(ServerSocket listener) {
        AtomicInteger count = new AtomicInteger();
        Thread acceptor = new Thread(() -> {
            while (!listener.isClosed()) {
                try {
                    listener.accept().close();
                    count.incrementAndGet();
                } catch (IOException e) {
                    return;
                }
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
        return count;
    }

    private static PythonDriver.Call fetch(String url) {
        return new PythonDriver.Call("fetch_json", Map.of("url", url));
    }
}
