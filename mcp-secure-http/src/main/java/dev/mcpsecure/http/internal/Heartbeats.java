package dev.mcpsecure.http.internal;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Keeps open event streams beating and finds the clients that went away: every period, each
 * watched stream whose last event is whole (the SDK flushed after it) gets an SSE comment line
 * ({@code ":"}, which clients ignore). A socket whose peer is gone fails the write, and the stream's
 * {@code gone} action runs once: a confirmation question waiting on that connection stops waiting.
 * Without a write, a blocked request gives the server no way to notice a closed connection.
 *
 * <p>The timer only hands each stream's beat to a small pool of writers ({@value #WRITERS}
 * threads), one beat in flight per stream: a write that blocks on a client that stopped reading
 * holds one writer until the connection's idle timeout, not the beats of every other stream
 * (when all writers are busy, that round's beats are skipped). Thread-safe.
 */
public final class Heartbeats implements AutoCloseable {

    /** Threads that write beats; more blocked writers than this skip beats, never queue them. */
    static final int WRITERS = 4;

    private final Set<Beating> streams = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService timer;
    private final ThreadPoolExecutor writers;

    /** Beats every {@code period}. */
    public Heartbeats(Duration period) {
        this.timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "mcp-secure-http-heartbeat");
            thread.setDaemon(true);
            return thread;
        });
        AtomicInteger count = new AtomicInteger();
        this.writers = new ThreadPoolExecutor(0, WRITERS, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), runnable -> {
            Thread thread = new Thread(runnable, "mcp-secure-http-heartbeat-writer-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        long millis = Math.max(1, period.toMillis());
        timer.scheduleWithFixedDelay(this::beat, millis, millis, TimeUnit.MILLISECONDS);
    }

    /**
     * Watches the event stream written through {@code writer} until it fails or {@link
     * Beating#stop} is called; returns the writer its writer must use instead.
     */
    Beating watch(PrintWriter writer, Runnable gone) {
        Beating stream = new Beating(writer, gone);
        streams.add(stream);
        return stream;
    }

    private void beat() {
        for (Beating stream : streams) {
            if (!stream.inFlight.compareAndSet(false, true)) {
                continue; // its last beat is still writing
            }
            try {
                writers.execute(() -> {
                    try {
                        stream.beat();
                    } catch (RuntimeException e) {
                        // a response completed under the beat (the container refuses the write)
                        streams.remove(stream);
                    } finally {
                        stream.inFlight.set(false);
                    }
                });
            } catch (RejectedExecutionException busy) {
                stream.inFlight.set(false); // every writer is blocked: this round skips it
            }
        }
    }

    /** The number of streams watched now; for tests. */
    int watched() {
        return streams.size();
    }

    @Override
    public void close() {
        timer.shutdownNow();
        writers.shutdownNow();
        streams.clear();
    }

    /**
     * The SDK's writer of one event stream, with the heartbeat's comments written only between
     * its events: the SDK writes an event's lines, then flushes; a comment goes in only after a
     * flush and before the next write, under the same lock.
     */
    final class Beating extends PrintWriter {
        private final PrintWriter target;
        private final Runnable gone;
        /** Held while the SDK writes an event or a beat is written; a beat never waits for it. */
        private final ReentrantLock lock = new ReentrantLock();
        /** Whether a beat of this stream is being written. */
        private final AtomicBoolean inFlight = new AtomicBoolean();

        private boolean betweenEvents = true;
        private volatile boolean stopped;

        private Beating(PrintWriter target, Runnable gone) {
            super(target);
            this.target = target;
            this.gone = gone;
        }

        @Override
        public void write(int c) {
            lock.lock();
            try {
                betweenEvents = false;
                target.write(c);
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void write(char[] buffer, int offset, int length) {
            lock.lock();
            try {
                betweenEvents = false;
                target.write(buffer, offset, length);
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void write(String text, int offset, int length) {
            lock.lock();
            try {
                betweenEvents = false;
                target.write(text, offset, length);
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void flush() {
            lock.lock();
            try {
                target.flush();
                betweenEvents = true;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public boolean checkError() {
            return target.checkError();
        }

        @Override
        public void close() {
            stop();
            lock.lock();
            try {
                target.close();
            } finally {
                lock.unlock();
            }
        }

        /** Stops watching: the stream is complete. */
        void stop() {
            streams.remove(this);
            stopped = true;
        }

        /**
         * Writes a comment when the stream is between events and nobody is writing to it; skips the
         * beat otherwise (a writer mid-event, or one blocked on a client that does not read,
         * must not hold up the beats of every other stream).
         */
        private void beat() {
            if (stopped || !lock.tryLock()) {
                return;
            }
            boolean failed;
            try {
                if (stopped || !betweenEvents) {
                    return;
                }
                target.write(":\n\n");
                target.flush();
                failed = target.checkError();
                if (failed) {
                    stopped = true;
                }
            } finally {
                lock.unlock();
            }
            if (failed) {
                streams.remove(this);
                gone.run();
            }
        }
    }
}
