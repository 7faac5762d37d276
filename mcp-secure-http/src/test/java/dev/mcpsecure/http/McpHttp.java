package dev.mcpsecure.http;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Raw MCP streamable HTTP requests, for asserting statuses and headers a client library hides. */
final class McpHttp {

    static final JsonMapper JSON = JsonMapper.builder().build();
    private static final HttpClient HTTP = HttpClient.newBuilder()
            .proxy(HttpClient.Builder.NO_PROXY)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    /** A response: status, headers (first values, lower-case names) and the JSON-RPC message, if any. */
    record Answer(int status, HttpResponse<String> response) {
        String header(String name) {
            return response.headers().firstValue(name).orElse(null);
        }

        /** The text of the first content item of a JSON-RPC result. */
        String firstText() {
            return json().path("result").path("content").get(0).path("text").asString();
        }

        /** The JSON body, or the first {@code data:} event of an SSE body. */
        JsonNode json() {
            String body = response.body();
            if (body.startsWith("{") || body.startsWith("[")) {
                return JSON.readTree(body);
            }
            for (String line : body.split("\n")) {
                if (line.startsWith("data:")) {
                    return JSON.readTree(line.substring(5).trim());
                }
            }
            throw new AssertionError("no JSON in the answer: " + body);
        }
    }

    private McpHttp() {}

    static Answer post(URI endpoint, String token, String session, Map<String, String> headers, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(endpoint)
                .timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        if (session != null) {
            request.header("Mcp-Session-Id", session);
        }
        headers.forEach(request::header);
        return send(request.build());
    }

    /** Ends {@code session} with a DELETE of the endpoint. */
    static Answer delete(URI endpoint, String session) {
        return send(HttpRequest.newBuilder(endpoint)
                .timeout(Duration.ofSeconds(10))
                .header("Mcp-Session-Id", session)
                .DELETE()
                .build());
    }

    /** A bodiless request ({@code GET}, {@code DELETE}) with {@code token} and {@code session} when not null. */
    static Answer bodiless(String method, URI endpoint, String token, String session) {
        HttpRequest.Builder request = HttpRequest.newBuilder(endpoint)
                .timeout(Duration.ofSeconds(10))
                .header("Accept", "text/event-stream")
                .header("MCP-Protocol-Version", "2025-11-25")
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        if (session != null) {
            request.header("Mcp-Session-Id", session);
        }
        return send(request.build());
    }

    static Answer get(URI uri, Map<String, String> headers) {
        HttpRequest.Builder request =
                HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET();
        headers.forEach(request::header);
        return send(request.build());
    }

    private static Answer send(HttpRequest request) {
        try {
            HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            assertNoInternals(response.body());
            return new Answer(response.statusCode(), response);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Every body the HTTP tests receive passes here: none may carry a stack frame, an exception
     * class name or a source file name.
     */
    static void assertNoInternals(String body) {
        if (body.matches(
                "(?s).*(\\tat [a-z]|\\b[A-Z]\\w*(Exception|Error)\\b|\\.java\\b|\\bat (java|io|org|dev)\\.).*")) {
            throw new AssertionError("a response body shows internals: " + body);
        }
    }

    static String initialize(int id) {
        return initialize(id, "{}");
    }

    /** An {@code initialize} request declaring {@code capabilities} (a JSON value). */
    static String initialize(int id, String capabilities) {
        return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                + "\"2025-11-25\",\"capabilities\":" + capabilities
                + ",\"clientInfo\":{\"name\":\"raw-test\",\"version\":\"1\"}}}";
    }

    /** Initializes a session with {@code token}; returns its id. */
    static String session(URI endpoint, String token) {
        return session(endpoint, token, "{}");
    }

    /** Initializes a session with {@code token}, declaring {@code capabilities}; returns its id. */
    static String session(URI endpoint, String token, String capabilities) {
        Answer init = post(endpoint, token, null, Map.of(), initialize(1, capabilities));
        if (init.status() != 200) {
            throw new AssertionError("initialize answered " + init.status() + ": "
                    + init.response().body());
        }
        String session = init.header("mcp-session-id");
        Answer initialized = post(
                endpoint,
                token,
                session,
                Map.of("MCP-Protocol-Version", "2025-11-25"),
                "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
        if (initialized.status() / 100 != 2) {
            throw new AssertionError("initialized answered " + initialized.status());
        }
        return session;
    }

    static String call(int id, String tool) {
        return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool
                + "\",\"arguments\":{}}}";
    }

    static String list(int id) {
        return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/list\",\"params\":{}}";
    }
}
