package dev.mcpsecure.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.ToolPolicy;
import dev.mcpsecure.core.SecureMcpServer;
import dev.mcpsecure.testkit.RecordingAuditSink;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Hung tools among ordinary calls, over the real HTTP transport with the SDK's client: {@code
 * hang} ignores interruption and never returns until the test lets it, {@code stall} sleeps a
 * minute but honours interruption, both with a 200 ms timeout and 3 concurrent calls; {@code echo}
 * answers at once. Several clients call all three in turn. The timeouts answer {@code TIMEOUT}
 * within the bound, the hung tool's threads hold its permits (further calls are refused at once
 * with {@code CONCURRENCY_LIMITED}), the tool threads never outnumber the tools' permits, and
 * every {@code echo} succeeds: a hung tool costs its own permits, not the server.
 */
class HungToolsUnderLoadTest {

    private static final int CLIENTS = 8;
    private static final int ROUNDS = 20;
    private static final int PERMITS = 3;
    private static final Duration TIMEOUT = Duration.ofMillis(200);
    /** A refusal may take the timeout plus this much on a busy 2-core machine. */
    private static final Duration SLACK = Duration.ofSeconds(3);

    private final RecordingAuditSink audit = new RecordingAuditSink();
    private final AtomicBoolean released = new AtomicBoolean();
    private final AtomicInteger ignoredInterrupts = new AtomicInteger();
    private final AtomicInteger stallsInterrupted = new AtomicInteger();
    private SecureHttpServer http;

    /** One call as the client saw it. */
    private record Outcome(String tool, String reason, String text, long nanos) {}

    @AfterEach
    void stop() {
        released.set(true);
        if (http != null) {
            http.close();
        }
    }

    @Test
    void hungToolsAreCutOffHoldOnlyTheirOwnPermitsAndOtherCallsGoOn() throws Exception {
        SecurityPolicy policy = SecurityPolicy.builder()
                .server("hung-tools", "")
                .tool(ToolPolicy.builder("hang")
                        .timeout(TIMEOUT)
                        .maxConcurrency(PERMITS)
                        .build())
                .tool(ToolPolicy.builder("stall")
                        .timeout(TIMEOUT)
                        .maxConcurrency(PERMITS)
                        .build())
                .tool(ToolPolicy.builder("echo").maxConcurrency(CLIENTS).build())
                .build();
        SecureMcpServer.Builder server = SecureMcpServer.builder(policy)
                .auditSink(audit)
                .tool(HttpFixture.tool("hang", request -> {
                    while (!released.get()) {
                        try {
                            Thread.sleep(20);
                        } catch (InterruptedException ignored) {
                            ignoredInterrupts.incrementAndGet(); // a badly written tool: carries on
                        }
                    }
                    return "done";
                }))
                .tool(HttpFixture.tool("stall", request -> {
                    try {
                        Thread.sleep(60_000);
                        return "late";
                    } catch (InterruptedException e) {
                        stallsInterrupted.incrementAndGet();
                        return "interrupted";
                    }
                }))
                .tool(HttpFixture.tool("echo", request -> "hello"));
        http = SecureHttpServer.builder(server, policy).start();
        int threadsBefore = toolThreads();

        ThreadWatch watch = new ThreadWatch();
        List<Outcome> outcomes = run(CLIENTS, ROUNDS, List.of("hang", "stall", "echo", "echo"));
        watch.stop();

        Map<String, Map<String, Long>> byTool = outcomes.stream()
                .collect(Collectors.groupingBy(
                        Outcome::tool, Collectors.groupingBy(Outcome::reason, Collectors.counting())));
        String summary = "outcomes " + byTool + ", tool threads " + threadsBefore + " before, at most "
                + watch.peak.get() + " during";
        System.err.println("hung tools under load: " + summary);

        assertThat(byTool.get("echo")).as(summary).isEqualTo(Map.of("ALLOWED", (long) CLIENTS * ROUNDS * 2));
        assertThat(outcomes)
                .filteredOn(outcome -> outcome.tool().equals("echo"))
                .allMatch(outcome -> outcome.text().equals("hello"));
        assertThat(byTool.get("hang"))
                .as("the hung calls' threads never return, so their permits stay taken: " + summary)
                .isEqualTo(Map.of("TIMEOUT", (long) PERMITS, "CONCURRENCY_LIMITED", (long) CLIENTS * ROUNDS - PERMITS));
        assertThat(byTool.get("stall").keySet()).as(summary).containsOnly("TIMEOUT", "CONCURRENCY_LIMITED");
        long stallTimeouts = byTool.get("stall").get("TIMEOUT");
        assertThat(stallTimeouts)
                .as("interrupted stalls give their permits back, so more than %d run: %s", PERMITS, summary)
                .isGreaterThan(PERMITS);
        assertThat(outcomes)
                .filteredOn(outcome -> outcome.reason().equals("TIMEOUT"))
                .allMatch(outcome -> outcome.nanos() <= TIMEOUT.plus(SLACK).toNanos(), "answered within the bound");
        assertThat(outcomes)
                .filteredOn(outcome -> outcome.reason().equals("CONCURRENCY_LIMITED"))
                .allMatch(outcome -> outcome.nanos() <= SLACK.toNanos(), "refused without waiting");
        assertThat(watch.peak.get() - threadsBefore)
                .as("tool threads beyond the tools' permits (hang %d, stall %d, echo %d)", PERMITS, PERMITS, CLIENTS)
                .isLessThanOrEqualTo(PERMITS + PERMITS + CLIENTS);
        await(() -> stallsInterrupted.get() == stallTimeouts, "every timed-out stall was interrupted");
        assertThat(ignoredInterrupts.get())
                .as("each hung call's thread was interrupted")
                .isGreaterThanOrEqualTo(PERMITS);

        Map<String, Map<ReasonCode, Long>> audited = audit.events().stream()
                .filter(event -> event.tool() != null)
                .collect(Collectors.groupingBy(
                        AuditEvent::tool, Collectors.groupingBy(AuditEvent::reason, Collectors.counting())));
        for (Map.Entry<String, Map<String, Long>> tool : byTool.entrySet()) {
            Map<ReasonCode, Long> seen = tool.getValue().entrySet().stream()
                    .collect(Collectors.toMap(reason -> ReasonCode.valueOf(reason.getKey()), Map.Entry::getValue));
            assertThat(audited.get(tool.getKey()))
                    .as("audit of %s", tool.getKey())
                    .isEqualTo(seen);
        }

        assertThat(run(PERMITS, 1, List.of("stall")))
                .as("every stall permit is free once the load is over")
                .extracting(Outcome::reason)
                .containsOnly("TIMEOUT");

        // let the hung threads go: their permits come back, and the tool runs again
        released.set(true);
        await(() -> toolThreadsInsideTheseTools() == 0, "the hung threads left the tool");
        List<Outcome> after = run(PERMITS, 1, List.of("hang"));
        assertThat(after).extracting(Outcome::text).containsOnly("done");
    }

    /** {@code clients} sessions at once, each calling {@code tools} in turn, {@code rounds} times. */
    private List<Outcome> run(int clients, int rounds, List<String> tools) throws Exception {
        ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<CompletableFuture<Void>> running = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                running.add(CompletableFuture.runAsync(
                        () -> {
                            McpSyncClient client = McpClient.sync(
                                            HttpClientStreamableHttpTransport.builder("http://127.0.0.1:" + http.port())
                                                    .endpoint("/mcp")
                                                    .build())
                                    .requestTimeout(Duration.ofSeconds(30))
                                    .build();
                            try {
                                client.initialize();
                                for (int round = 0; round < rounds; round++) {
                                    for (String tool : tools) {
                                        outcomes.add(call(client, tool));
                                    }
                                }
                            } finally {
                                client.closeGracefully();
                            }
                        },
                        pool));
            }
            CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).join();
        } finally {
            pool.shutdown();
        }
        return List.copyOf(outcomes);
    }

    private static Outcome call(McpSyncClient client, String tool) {
        long start = System.nanoTime();
        McpSchema.CallToolResult result = client.callTool(
                McpSchema.CallToolRequest.builder(tool).arguments(Map.of()).build());
        long nanos = System.nanoTime() - start;
        String text = ((McpSchema.TextContent) result.content().get(0)).text();
        String reason = Boolean.TRUE.equals(result.isError())
                ? String.valueOf(result.meta().get("dev.mcpsecure/reason"))
                : "ALLOWED";
        return new Outcome(tool, reason, text, nanos);
    }

    /** Live threads of the tool pools (named {@code mcp-secure-tool-N}), of every server in this JVM. */
    private static int toolThreads() {
        return (int) Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().startsWith("mcp-secure-tool-"))
                .count();
    }

    /** Tool threads running one of this test's tools (a lambda of this class is on their stack). */
    private static int toolThreadsInsideTheseTools() {
        return (int) Thread.getAllStackTraces().entrySet().stream()
                .filter(thread -> thread.getKey().getName().startsWith("mcp-secure-tool-"))
                .filter(thread -> List.of(thread.getValue()).stream()
                        .anyMatch(frame -> frame.getClassName().startsWith(HungToolsUnderLoadTest.class.getName())
                                && frame.getMethodName().contains("lambda")))
                .count();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waited 10 s until " + what).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    /** Samples the number of tool threads every 20 ms and keeps the highest. */
    private static final class ThreadWatch {
        final AtomicInteger peak = new AtomicInteger();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        ThreadWatch() {
            thread = new Thread(
                    () -> {
                        while (running.get()) {
                            peak.accumulateAndGet(toolThreads(), Math::max);
                            try {
                                Thread.sleep(20);
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                    },
                    "hung-tools-thread-watch");
            thread.setDaemon(true);
            thread.start();
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join();
        }
    }
}
