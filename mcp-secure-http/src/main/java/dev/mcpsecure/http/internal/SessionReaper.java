package dev.mcpsecure.http.internal;

import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends idle sessions the way a client would: a {@code DELETE} of the MCP endpoint with the
 * session's id, sent by this process to its own listener, so the SDK frees the session through its
 * public protocol (it keeps sessions in a private map with no other way to remove one). The request
 * carries a random per-process token that the gate accepts in place of a bearer token for that one
 * kind of request. Thread-safe.
 */
public final class SessionReaper implements AutoCloseable {

    /** The header carrying the internal token. */
    public static final String INTERNAL_HEADER = "X-Mcp-Secure-Internal";

    private static final Logger LOG = LoggerFactory.getLogger("dev.mcpsecure.http");

    private final String token;
    private final SessionTable sessions;
    private final ScheduledExecutorService timer;
    private final HttpClient client;
    private volatile URI endpoint;

    /** A reaper of {@code sessions}, checking every {@code period} once {@link #start} is called. */
    public SessionReaper(SessionTable sessions) {
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        this.token = HexFormat.of().formatHex(random);
        this.sessions = sessions;
        this.timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "mcp-secure-http-session-reaper");
            thread.setDaemon(true);
            return thread;
        });
        this.client = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(2))
                .proxy(ProxySelector.of(null))
                .followRedirects(HttpClient.Redirect.NEVER)
                .executor(timer)
                .build();
    }

    /** Starts checking every {@code period}, deleting through {@code endpoint}. */
    public void start(URI endpoint, Duration period) {
        this.endpoint = endpoint;
        timer.scheduleWithFixedDelay(
                () -> sessions.expire().forEach(this::delete),
                period.toMillis(),
                period.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /** Whether {@code presented} is this process's internal token (compared in constant time). */
    public boolean internal(String presented) {
        return presented != null
                && MessageDigest.isEqual(
                        presented.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8));
    }

    /** Deletes {@code id} at the SDK, in the background. */
    public void delete(String id) {
        URI target = endpoint;
        if (target == null) {
            return;
        }
        HttpRequest request = HttpRequest.newBuilder(target)
                .timeout(Duration.ofSeconds(5))
                .header("Mcp-Session-Id", id)
                .header(INTERNAL_HEADER, token)
                .DELETE()
                .build();
        client.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((response, error) -> {
            if (error != null) {
                LOG.warn("could not end idle session {}: {}", id, error.toString());
            } else if (response.statusCode() != 200 && response.statusCode() != 404) {
                LOG.warn("ending idle session {} was answered with HTTP {}", id, response.statusCode());
            }
        });
    }

    /** Never the token. */
    @Override
    public String toString() {
        return "SessionReaper[" + endpoint + ", live=" + sessions.live() + "]";
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
