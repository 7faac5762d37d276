package dev.mcpsecure.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import tools.jackson.databind.JsonNode;

/**
 * One MCP request over its own TCP connection, whose answer is read as it streams: the server's
 * requests sent on it (a confirmation question) come one by one, and the test can close the
 * connection under a waiting call, as a client that goes away does. Raw HTTP/1.1 on a socket, so
 * the connection is exactly the test's to keep or drop.
 */
final class SseCall implements AutoCloseable {

    private final Socket socket;
    private final InputStream in;
    private final int status;
    private final boolean chunked;
    private final Deque<JsonNode> messages = new ArrayDeque<>();
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private int chunkLeft;

    private SseCall(Socket socket, InputStream in, int status, boolean chunked) {
        this.socket = socket;
        this.in = in;
        this.status = status;
        this.chunked = chunked;
    }

    /** POSTs {@code body} in {@code session} with {@code token}; returns once the headers are read. */
    static SseCall post(URI endpoint, String token, String session, String body) {
        try {
            Socket socket = new Socket(endpoint.getHost(), endpoint.getPort());
            socket.setSoTimeout(15_000);
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            StringBuilder request = new StringBuilder()
                    .append("POST ")
                    .append(endpoint.getRawPath())
                    .append(" HTTP/1.1\r\n")
                    .append("Host: ")
                    .append(endpoint.getHost())
                    .append(':')
                    .append(endpoint.getPort())
                    .append("\r\n")
                    .append("Content-Type: application/json\r\n")
                    .append("Accept: application/json, text/event-stream\r\n")
                    .append("MCP-Protocol-Version: 2025-11-25\r\n")
                    .append("Authorization: Bearer ")
                    .append(token)
                    .append("\r\n")
                    .append("Mcp-Session-Id: ")
                    .append(session)
                    .append("\r\n")
                    .append("Content-Length: ")
                    .append(bytes.length)
                    .append("\r\n\r\n");
            OutputStream out = socket.getOutputStream();
            out.write(request.toString().getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
            out.flush();
            InputStream in = socket.getInputStream();
            String statusLine = line(in);
            int status = Integer.parseInt(statusLine.split(" ")[1]);
            boolean chunked = false;
            for (String header = line(in); !header.isEmpty(); header = line(in)) {
                if (header.toLowerCase(Locale.ROOT).startsWith("transfer-encoding:")
                        && header.toLowerCase(Locale.ROOT).contains("chunked")) {
                    chunked = true;
                }
            }
            return new SseCall(socket, in, status, chunked);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    int status() {
        return status;
    }

    /** The next JSON-RPC message on the stream; fails after 15 s of silence or at its end. */
    JsonNode next() {
        try {
            while (messages.isEmpty()) {
                int b = chunked ? chunkedByte() : in.read();
                if (b < 0) {
                    throw new AssertionError("the stream ended; unread: " + pending.toString(StandardCharsets.UTF_8));
                }
                if (b == '\n') {
                    String line = pending.toString(StandardCharsets.UTF_8).strip();
                    pending.reset();
                    McpHttp.assertNoInternals(line);
                    if (line.startsWith("data:")) {
                        messages.add(McpHttp.JSON.readTree(line.substring(5).trim()));
                    }
                } else {
                    pending.write(b);
                }
            }
            return messages.poll();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private int chunkedByte() throws IOException {
        if (chunkLeft == 0) {
            String size = line(in);
            if (size.isEmpty()) {
                size = line(in); // the CRLF that ends the previous chunk
            }
            chunkLeft = Integer.parseInt(size.split(";")[0].trim(), 16);
            if (chunkLeft == 0) {
                return -1;
            }
        }
        int b = in.read();
        if (b >= 0) {
            chunkLeft--;
        }
        return b;
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b >= 0 && b != '\n'; b = in.read()) {
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.UTF_8);
    }

    /** Drops the connection, as a client that goes away does. */
    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // already gone
        }
    }
}
