package dev.mcpsecure.core.internal.pipeline;

import dev.mcpsecure.api.internal.CurrentCall;
import io.modelcontextprotocol.server.McpAsyncServerExchange;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncToolSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.server.McpSyncServerExchange;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Mono;

/**
 * Runs the app's own tool code. {@code release} is called exactly once, when the code has really
 * stopped: for a sync tool, when its thread leaves the tool, even after a timeout gave up on it,
 * so a tool that ignores interruption keeps holding its concurrency permit and threads stay
 * bounded by the concurrency limits.
 */
interface ToolInvoker {

    /**
     * @param binding the call this code serves, bound to the thread that runs it
     */
    Mono<CallToolResult> invoke(
            McpAsyncServerExchange exchange, CallToolRequest request, Runnable release, CurrentCall.Binding binding);

    /** Runs a sync tool on {@code executor}; cancelling the result interrupts the tool's thread. */
    static ToolInvoker of(SyncToolSpecification spec, ExecutorService executor) {
        return (exchange, request, release, binding) -> Mono.create(sink -> {
            AtomicBoolean started = new AtomicBoolean();
            Future<?> future;
            try {
                future = executor.submit(() -> {
                    if (!started.compareAndSet(false, true)) {
                        return;
                    }
                    CallToolResult result = null;
                    Throwable failure = null;
                    CurrentCall.Scope scope = CurrentCall.bind(binding);
                    try {
                        result = spec.callHandler().apply(new McpSyncServerExchange(exchange), request);
                    } catch (Throwable e) { // reported as TOOL_FAILED, not lost on a pool thread
                        failure = e;
                    } finally {
                        scope.close();
                        release.run(); // before the result goes out: the caller's next call finds the permit free
                    }
                    if (failure != null) {
                        sink.error(failure);
                    } else {
                        sink.success(result);
                    }
                });
            } catch (RejectedExecutionException e) {
                release.run();
                sink.error(e);
                return;
            }
            sink.onCancel(() -> {
                if (started.compareAndSet(false, true)) {
                    future.cancel(false);
                    release.run();
                } else {
                    future.cancel(true);
                }
            });
        });
    }

    /**
     * Runs an async tool; its permit is released when its result completes or fails (before the
     * result goes on) or when it is cancelled.
     */
    static ToolInvoker of(AsyncToolSpecification spec) {
        return (exchange, request, release, binding) -> Mono.defer(() -> {
                    CurrentCall.Scope scope = CurrentCall.bind(binding);
                    try {
                        return spec.callHandler().apply(exchange, request);
                    } finally {
                        scope.close();
                    }
                })
                .doOnSuccess(result -> release.run())
                .doOnError(error -> release.run())
                .doOnCancel(release::run);
    }
}
