package dev.mcpsecure.http.internal;

import dev.mcpsecure.core.internal.pipeline.GuardedStreamableProvider;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Ends idle sessions in-process: every period it takes the sessions the {@link SessionTable} has
 * expired and ends each through the provider wrapper that knows the SDK's sessions ({@link
 * GuardedStreamableProvider#end}), as a client's {@code DELETE} would; the SDK then drops them at
 * its own next sweep. No request is sent and no header is trusted. Thread-safe.
 */
public final class SessionReaper implements AutoCloseable {

    private final SessionTable sessions;
    private final ScheduledExecutorService timer;
    private volatile GuardedStreamableProvider provider;

    /** A reaper of {@code sessions}; it checks once {@link #start} is called. */
    public SessionReaper(SessionTable sessions) {
        this.sessions = sessions;
        this.timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "mcp-secure-http-session-reaper");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Starts checking every {@code period}, ending sessions through {@code provider}. */
    public void start(GuardedStreamableProvider provider, Duration period) {
        this.provider = provider;
        timer.scheduleWithFixedDelay(
                () -> sessions.expire().forEach(this::delete),
                period.toMillis(),
                period.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /** Ends {@code id} at the SDK; nothing before {@link #start}. */
    public void delete(String id) {
        GuardedStreamableProvider current = provider;
        if (current != null) {
            current.end(id);
        }
    }

    /** Forgets {@code id}, which its client deleted. */
    public void deleted(String id) {
        GuardedStreamableProvider current = provider;
        if (current != null) {
            current.forget(id);
        }
    }

    @Override
    public String toString() {
        return "SessionReaper[live=" + sessions.live() + "]";
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
