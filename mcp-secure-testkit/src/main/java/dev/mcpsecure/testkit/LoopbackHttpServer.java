package dev.mcpsecure.testkit;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small HTTP/1.1 server on 127.0.0.1 standing in for an outbound target in tests: it counts
 * the TCP connections it accepts and records every request, so a test can assert that a refused
 * request never reached it. Keeps connections alive; serves routes by exact path (query
 * ignored), 404 otherwise. Thread-safe; close it to stop it and its threads.
 */
public final class LoopbackHttpServer implements AutoCloseable {

    /** A request as received; header names lower case. */
    public record Received(String method, String target, Map<String, String> headers, byte[] body) {
        /** The path, without the query. */
        public String path() {
            int query = target.indexOf('?');
            return query < 0 ? target : target.substring(0, query);
        }
    }

    /** A response to send. */
    public record Reply(int status, Map<String, String> headers, byte[] body, boolean chunked) {
        /** A {@code 200} with a text body. */
        public static Reply text(String body) {
            return new Reply(200, Map.of("Content-Type", "text/plain; charset=utf-8"), utf8(body), false);
        }

        /** A {@code 200} with a JSON body. */
        public static Reply json(String body) {
            return new Reply(200, Map.of("Content-Type", "application/json"), utf8(body), false);
        }

        /** A redirect with {@code status} (301, 302, 303, 307, 308) to {@code location}. */
        public static Reply redirect(int status, String location) {
            return new Reply(status, Map.of("Location", location), new byte[0], false);
        }

        /** This reply sent with chunked transfer coding, so no length is declared up front. */
        public Reply asChunked() {
            return new Reply(status, headers, body, true);
        }
    }

    /** Answers a request. */
    @FunctionalInterface
    public interface Route {
        Reply answer(Received request) throws Exception;
    }

    private final ServerSocket socket;
    private final ExecutorService threads = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "loopback-http");
        thread.setDaemon(true);
        return thread;
    });
    private final Map<String, Route> routes = new ConcurrentHashMap<>();
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();

    private LoopbackHttpServer(ServerSocket socket) {
        this.socket = socket;
        threads.execute(this::acceptLoop);
    }

    /** Starts a server on 127.0.0.1 and a free port. */
    public static LoopbackHttpServer start() {
        try {
            return new LoopbackHttpServer(new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1")));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind 127.0.0.1", e);
        }
    }

    /** Serves {@code path} with {@code route}, replacing any earlier route for it. */
    public LoopbackHttpServer route(String path, Route route) {
        routes.put(Objects.requireNonNull(path, "path"), Objects.requireNonNull(route, "route"));
        return this;
    }

    /** The port it listens on. */
    public int port() {
        return socket.getLocalPort();
    }

    /** How many TCP connections it has accepted. */
    public int accepted() {
        return accepted.get();
    }

    /** Every request received so far, oldest first; a snapshot. */
    public List<Received> received() {
        return List.copyOf(received);
    }

    private void acceptLoop() {
        while (!socket.isClosed()) {
            try {
                Socket connection = socket.accept();
                connection.setTcpNoDelay(true);
                accepted.incrementAndGet();
                open.add(connection);
                threads.execute(() -> serve(connection));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket connection) {
        try (connection;
                InputStream in = new BufferedInputStream(connection.getInputStream());
                OutputStream out = connection.getOutputStream()) {
            while (true) {
                String requestLine = line(in);
                if (requestLine == null || requestLine.isEmpty()) {
                    return;
                }
                String[] parts = requestLine.split(" ");
                Map<String, String> headers = new LinkedHashMap<>();
                for (String header = line(in); header != null && !header.isEmpty(); header = line(in)) {
                    int colon = header.indexOf(':');
                    if (colon > 0) {
                        headers.put(
                                header.substring(0, colon).trim().toLowerCase(Locale.ROOT),
                                header.substring(colon + 1).trim());
                    }
                }
                int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
                byte[] body = in.readNBytes(length);
                Received request = new Received(parts[0], parts.length > 1 ? parts[1] : "/", headers, body);
                received.add(request);
                write(out, answer(request), parts[0].equals("HEAD"));
            }
        } catch (IOException e) {
            // the client went away
        } finally {
            open.remove(connection);
        }
    }

    private Reply answer(Received request) {
        Route route = routes.get(request.path());
        if (route == null) {
            return new Reply(404, Map.of(), utf8("no route for " + request.path()), false);
        }
        try {
            return route.answer(request);
        } catch (Exception e) {
            return new Reply(500, Map.of(), utf8(e.toString()), false);
        }
    }

    /** Writes the reply in one buffer (separate small writes would meet delayed ACKs). */
    private static void write(OutputStream socketOut, Reply reply, boolean head) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(reply.body().length + 256);
        StringBuilder head1 = new StringBuilder("HTTP/1.1 " + reply.status() + " X\r\n");
        reply.headers()
                .forEach((name, value) ->
                        head1.append(name).append(": ").append(value).append("\r\n"));
        head1.append(
                reply.chunked() ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + reply.body().length + "\r\n");
        head1.append("\r\n");
        out.write(head1.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (!head) {
            if (reply.chunked()) {
                for (int offset = 0; offset < reply.body().length; offset += 16384) {
                    int n = Math.min(16384, reply.body().length - offset);
                    out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    out.write(reply.body(), offset, n);
                    out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
                }
                out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            } else {
                out.write(reply.body());
            }
        }
        out.writeTo(socketOut);
        socketOut.flush();
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int c = in.read(); c != -1; c = in.read()) {
            if (c == '\n') {
                String text = bytes.toString(StandardCharsets.ISO_8859_1);
                return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
            }
            bytes.write(c);
            if (bytes.size() > 65536) {
                throw new SocketException("request line or header too long");
            }
        }
        return bytes.size() == 0 ? null : bytes.toString(StandardCharsets.ISO_8859_1);
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** Stops listening, closes open connections and stops its threads. */
    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
        for (Socket connection : open) {
            try {
                connection.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        threads.shutdownNow();
        try {
            threads.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
