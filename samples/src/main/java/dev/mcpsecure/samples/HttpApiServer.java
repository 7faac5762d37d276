package dev.mcpsecure.samples;

import static dev.mcpsecure.samples.SampleTools.argument;
import static dev.mcpsecure.samples.SampleTools.error;
import static dev.mcpsecure.samples.SampleTools.text;
import static dev.mcpsecure.samples.SampleTools.tool;

import dev.mcpsecure.api.RiskClass;
import dev.mcpsecure.core.EgressHttpClient;
import dev.mcpsecure.core.EgressRequest;
import dev.mcpsecure.core.EgressResponse;
import dev.mcpsecure.core.SecureMcpServer;
import dev.mcpsecure.core.SecureStdioServer;
import dev.mcpsecure.http.SecureHttpLauncher;
import java.util.List;

/**
 * An MCP server over stdio whose one tool fetches JSON through {@link EgressHttpClient}, under
 * {@code samples/policies/http-api.yaml}: only {@code GET http://127.0.0.1:8089/v1/...} (the
 * {@link SampleApi}, allowed on loopback explicitly); every other URL, address, scheme or
 * redirect is refused with its reason code.
 *
 * <pre>
 * java -cp samples/target/mcp-secure-samples.jar dev.mcpsecure.samples.SampleApi &amp;
 * java -cp samples/target/mcp-secure-samples.jar dev.mcpsecure.samples.HttpApiServer \
 *     --policy samples/policies/http-api.yaml
 * </pre>
 *
 * <p>With {@code --port <n>} it serves streamable HTTP on {@code http://127.0.0.1:<n>/mcp}
 * instead (see {@link SecureHttpLauncher}); with {@code transport.auth} in the policy, callers
 * need a bearer token for the policy's resource.
 */
public final class HttpApiServer {

    private HttpApiServer() {}

    /**
     * Serves stdio until stdin closes ({@link SecureStdioServer}), or HTTP with {@code --port}
     * until stopped ({@link SecureHttpLauncher}); see those for arguments and exit codes.
     */
    public static void main(String[] args) {
        boolean http = java.util.Arrays.asList(args).contains("--port");
        System.exit(
                http
                        ? SecureHttpLauncher.run(args, HttpApiServer::register)
                        : SecureStdioServer.run(args, HttpApiServer::register));
    }

    /** Adds fetch_json. */
    static void register(SecureMcpServer.Builder server) {
        EgressHttpClient http = server.egress();
        server.tool(
                tool(
                        "fetch_json",
                        "Fetches a JSON document from the weather API, such as"
                                + " http://127.0.0.1:8089/v1/weather?city=Oslo.",
                        List.of("url"),
                        List.of(),
                        request -> {
                            EgressResponse response =
                                    http.send(EgressRequest.builder("GET", argument(request, "url", null))
                                            .header("Accept", "application/json")
                                            .build());
                            return response.status() / 100 == 2
                                    ? text(response.bodyText())
                                    : error("the API answered " + response.status());
                        }),
                RiskClass.NETWORK);
    }
}
