package dev.mcpsecure.samples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.http.JwtTokenVerifier;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * The small JSON API the HTTP-API sample calls: {@code GET /v1/weather?city=Oslo} answers a
 * made-up forecast, {@code /v1/moved} redirects to the cloud metadata address (so the sample can
 * show a refused redirect), and {@code /admin} stands for what must stay unreachable. Listens on
 * 127.0.0.1 only.
 *
 * <p>Started with a {@link TokenCheck}, {@code /v1/weather} answers only requests carrying a
 * bearer token for {@link #AUDIENCE} that {@link JwtTokenVerifier} accepts (401 otherwise), as a
 * real API behind the server's token source would.
 *
 * <pre>
 * java -cp samples/target/mcp-secure-samples.jar dev.mcpsecure.samples.SampleApi 8089
 * java -cp samples/target/mcp-secure-samples.jar dev.mcpsecure.samples.SampleApi 8089 \
 *     --issuer urn:mcp-secure:local-issuer:mcp-secure-http-api --jwks-file /tmp/http-api-jwks.json
 * </pre>
 */
public final class SampleApi implements AutoCloseable {

    /** The port {@code samples/policies/http-api.yaml} allows. */
    public static final int DEFAULT_PORT = 8089;

    /** The audience tokens for this API name: what the HTTP-API sample's policy lists. */
    public static final String AUDIENCE = "https://weather.sample";

    private final HttpServer server;

    private SampleApi(HttpServer server) {
        this.server = server;
    }

    /**
     * How the API checks bearer tokens: tokens from {@code issuer} for {@link #AUDIENCE}, verified
     * with the public keys in {@code jwksFile} (re-read when a token names a key it does not hold,
     * since the issuer may start after the API) or at {@code jwksUrl}.
     */
    public record TokenCheck(String issuer, Path jwksFile, URI jwksUrl) {}

    /** Starts the API on 127.0.0.1:{@code port} (0 for a free port), without token checks. */
    public static SampleApi start(int port) throws IOException {
        return start(port, null);
    }

    /** Starts the API on 127.0.0.1:{@code port}; with {@code check}, the weather needs a valid token. */
    public static SampleApi start(int port, TokenCheck check) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 16);
        TokenGate gate = check == null ? null : new TokenGate(check);
        server.createContext("/v1/weather", exchange -> {
            if (gate != null && !gate.admits(exchange.getRequestHeaders().getFirst("Authorization"))) {
                exchange.getResponseHeaders().add("WWW-Authenticate", "Bearer error=\"invalid_token\"");
                send(exchange, 401, "{\"error\":\"a valid bearer token for " + AUDIENCE + " is required\"}");
                return;
            }
            weather(exchange);
        });
        server.createContext("/v1/moved", exchange -> {
            exchange.getResponseHeaders().add("Location", "http://169.254.169.254/latest/meta-data/");
            send(exchange, 302, "");
        });
        server.createContext("/admin", exchange -> send(exchange, 200, "{\"secret\":\"admin area\"}"));
        server.start();
        return new SampleApi(server);
    }

    /** The port it listens on. */
    public int port() {
        return server.getAddress().getPort();
    }

    /**
     * Serves until killed: {@code [port] [--issuer <iss> (--jwks-file <path> | --jwks-url <url>)]};
     * the port defaults to 8089; with an issuer, the weather needs a token from it.
     */
    public static void main(String[] args) throws Exception {
        int port = args.length > 0 && !args[0].startsWith("--") ? Integer.parseInt(args[0]) : DEFAULT_PORT;
        java.util.List<String> options = java.util.Arrays.asList(args);
        String issuer = option(options, "--issuer");
        String file = option(options, "--jwks-file");
        String url = option(options, "--jwks-url");
        TokenCheck check = issuer == null
                ? null
                : new TokenCheck(issuer, file == null ? null : Path.of(file), url == null ? null : URI.create(url));
        try (SampleApi api = start(port, check)) {
            System.err.println("sample API on http://127.0.0.1:" + api.port() + "/v1/weather?city=Oslo");
            new CountDownLatch(1).await();
        }
    }

    private static String option(java.util.List<String> args, String name) {
        int at = args.indexOf(name);
        return at >= 0 && at + 1 < args.size() ? args.get(at + 1) : null;
    }

    /** Verifies bearer tokens, reloading pinned keys from the file when a key id is unknown. */
    private static final class TokenGate {
        private final TokenCheck check;
        private volatile JwtTokenVerifier verifier;

        TokenGate(TokenCheck check) {
            this.check = check;
        }

        boolean admits(String authorization) {
            if (authorization == null || !authorization.startsWith("Bearer ")) {
                return false;
            }
            String token = authorization.substring(7).trim();
            for (int attempt = 0; attempt < 2; attempt++) {
                try {
                    JwtTokenVerifier current = verifier;
                    if (current == null || attempt == 1) {
                        current = load();
                        verifier = current;
                    }
                    current.verify(token);
                    return true;
                } catch (PolicyViolationException | IOException | IllegalArgumentException e) {
                    if (check.jwksFile() == null) {
                        return false;
                    }
                }
            }
            return false;
        }

        private JwtTokenVerifier load() throws IOException {
            JwtTokenVerifier.Builder builder = JwtTokenVerifier.builder(check.issuer(), AUDIENCE);
            return (check.jwksFile() != null
                            ? builder.keys(Files.readString(check.jwksFile()))
                            : builder.jwksUrl(check.jwksUrl()))
                    .build();
        }
    }

    private static void weather(HttpExchange exchange) throws IOException {
        String query = exchange.getRequestURI().getRawQuery();
        String city = "nowhere";
        if (query != null && query.startsWith("city=")) {
            city = URLDecoder.decode(query.substring(5), StandardCharsets.UTF_8);
        }
        String safe = city.replaceAll("[^\\p{L}\\p{N} -]", "");
        send(exchange, 200, "{\"city\":\"" + safe + "\",\"forecast\":\"sunny\",\"celsius\":21}");
    }

    private static void send(HttpExchange exchange, int status, String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
