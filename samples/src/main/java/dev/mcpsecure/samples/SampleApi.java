package dev.mcpsecure.samples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;

/**
 * The small JSON API the HTTP-API sample calls: {@code GET /v1/weather?city=Oslo} answers a
 * made-up forecast, {@code /v1/moved} redirects to the cloud metadata address (so the sample can
 * show a refused redirect), and {@code /admin} stands for what must stay unreachable. Listens on
 * 127.0.0.1 only.
 *
 * <pre>
 * java -cp samples/target/mcp-secure-samples.jar dev.mcpsecure.samples.SampleApi 8089
 * </pre>
 */
public final class SampleApi implements AutoCloseable {

    /** The port {@code samples/policies/http-api.yaml} allows. */
    public static final int DEFAULT_PORT = 8089;

    private final HttpServer server;

    private SampleApi(HttpServer server) {
        this.server = server;
    }

    /** Starts the API on 127.0.0.1:{@code port} (0 for a free port). */
    public static SampleApi start(int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 16);
        server.createContext("/v1/weather", SampleApi::weather);
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

    /** Serves until killed; the port is the first argument (default 8089). */
    public static void main(String[] args) throws Exception {
        try (SampleApi api = start(args.length > 0 ? Integer.parseInt(args[0]) : DEFAULT_PORT)) {
            System.err.println("sample API on http://127.0.0.1:" + api.port() + "/v1/weather?city=Oslo");
            new CountDownLatch(1).await();
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
