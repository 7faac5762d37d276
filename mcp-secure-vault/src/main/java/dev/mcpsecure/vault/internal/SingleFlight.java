package dev.mcpsecure.vault.internal;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * At most one fetch per key at a time: callers asking for a key while its fetch runs share that
 * fetch's result. Thread-safe.
 *
 * @param <V> what a fetch produces
 */
public final class SingleFlight<V> {

    private final Map<String, CompletableFuture<V>> running = new ConcurrentHashMap<>();
    private final Executor executor;

    /** Runs fetches on {@code executor}, never on the caller's thread. */
    public SingleFlight(Executor executor) {
        this.executor = executor;
    }

    /**
     * The running fetch for {@code key}, or a new one running {@code fetch}. When it succeeds,
     * {@code store} sees the value before the fetch is released, so a caller arriving after the
     * release finds the stored value instead of starting another fetch.
     */
    public CompletableFuture<V> fetch(String key, Supplier<V> fetch, Consumer<V> store) {
        CompletableFuture<V> created = new CompletableFuture<>();
        CompletableFuture<V> existing = running.putIfAbsent(key, created);
        if (existing != null) {
            return existing;
        }
        try {
            executor.execute(() -> {
                try {
                    V value = fetch.get();
                    store.accept(value);
                    running.remove(key, created);
                    created.complete(value);
                } catch (RuntimeException | Error e) {
                    running.remove(key, created);
                    created.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            running.remove(key, created);
            created.completeExceptionally(
                    new VaultFailure(VaultFailure.Kind.UNREACHABLE, "the vault client is closed"));
        }
        return created;
    }

    /**
     * Waits at most {@code timeout} for {@code flight}.
     *
     * @throws VaultFailure the fetch's failure, or {@link VaultFailure.Kind#UNREACHABLE} when the
     *     wait timed out or was interrupted (the interrupt flag is kept)
     */
    public static <V> V await(CompletableFuture<V> flight, Duration timeout) {
        try {
            return flight.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new VaultFailure(
                    VaultFailure.Kind.UNREACHABLE, "the vault did not answer within " + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VaultFailure(VaultFailure.Kind.UNREACHABLE, "interrupted while waiting for the vault");
        } catch (CancellationException e) {
            throw new VaultFailure(VaultFailure.Kind.UNREACHABLE, "the vault request was cancelled");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof VaultFailure failure) {
                throw failure;
            }
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException("vault fetch failed", e.getCause());
        }
    }
}
