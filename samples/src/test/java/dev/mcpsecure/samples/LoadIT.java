package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.http.SecureHttpServer;
import dev.mcpsecure.testkit.OpenBaoServer;
import dev.mcpsecure.testkit.PythonMcpClient;
import dev.mcpsecure.testkit.RecordingAuditSink;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.json.TypeRef;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP-API sample under load, in this JVM so its threads, file descriptors and heap can be
 * read: streamable HTTP with bearer tokens from a real OpenBao, the sample's fetch_json reaching
 * the sample API through the egress guard with audience-bound tokens from OpenBao (VaultTokenSource),
 * the lockfile checked, every guard on. {@code load.clients} Java SDK clients make
 * {@code load.calls} calls each while one Python MCP client process makes {@code load.pythonCalls}.
 *
 * <p>Passes when no call fails, the audit log holds exactly one ALLOWED call record per call and
 * one egress effect tied to each call, and threads,
 * open file descriptors and heap after GC are back within bounds of their values after warm-up
 * (read again for up to 90 s while idle pools shrink; see {@link ResourceUsage}).
 * Figures go to stderr and {@code target/load-report.txt}. CI runs 10 x 200 (+100 Python); the full
 * run is {@code -Dload.clients=50 -Dload.calls=2000 -Dload.pythonCalls=2000} (docs/reliability.md).
 */
class LoadIT {

    private static final int CLIENTS = Integer.getInteger("load.clients", 10);
    private static final int CALLS = Integer.getInteger("load.calls", 200);
    private static final int PYTHON_CALLS = Integer.getInteger("load.pythonCalls", 100);
    private static final ResourceUsage.Bounds BOUNDS = new ResourceUsage.Bounds(12, 24, 48L << 20);
    /** Longer than the idle timeouts (60 s) after which Jetty's and Reactor's pools shrink. */
    private static final Duration SETTLE_LIMIT = Duration.ofSeconds(90);

    @RegisterExtension
    static final OpenBaoServer bao = new OpenBaoServer();

    @TempDir
    Path tmp;

    @Test
    void manyClientsManyCallsNoErrorsOneAuditLineEachNoLeaks() throws Exception {
        try (LoadRig rig = new LoadRig(bao, tmp, Duration.ofMinutes(2))) {
            RecordingAuditSink audit = rig.audit;
            SecureHttpServer http = rig.http;
            String resource = rig.resource;
            String token = rig.token;
            String weather = rig.weather;
            // warm-up at full concurrency, so pools are at their working size before the baseline
            runClients(resource, token, weather, CLIENTS, 20);
            ResourceUsage before = usage();
            audit.clear();

            long started = System.nanoTime();
            CompletableFuture<Map<String, Object>> python =
                    CompletableFuture.supplyAsync(() -> python(resource, token, weather, PYTHON_CALLS));
            Result java = runClients(resource, token, weather, CLIENTS, CALLS);
            Map<String, Object> pythonReport = python.get();
            double seconds = (System.nanoTime() - started) / 1e9;

            await(() -> http.liveSessions() == 0, Duration.ofSeconds(30));
            long audited = audit.events().stream()
                    .filter(event -> event.kind() == AuditEvent.Kind.CALL && "fetch_json".equals(event.tool()))
                    .count();
            long allowed = audit.events().stream()
                    .filter(event -> event.kind() == AuditEvent.Kind.CALL
                            && "fetch_json".equals(event.tool())
                            && event.reason() == ReasonCode.ALLOWED)
                    .count();
            Set<String> callIds = audit.events().stream()
                    .filter(event -> event.kind() == AuditEvent.Kind.CALL && "fetch_json".equals(event.tool()))
                    .map(AuditEvent::callId)
                    .collect(Collectors.toSet());
            List<AuditEvent> egress = audit.events().stream()
                    .filter(event -> event.kind() == AuditEvent.Kind.EFFECT && "egress".equals(event.action()))
                    .toList();
            long egressOfTheirCall = egress.stream()
                    .filter(event -> event.reason() == ReasonCode.ALLOWED
                            && event.callId() != null
                            && callIds.contains(event.callId())
                            && "fetch_json".equals(event.tool())
                            && event.sessionId() != null)
                    .count();
            audit.clear(); // the test's own record of 100k events is not the server's heap
            ResourceUsage.Settled settled = ResourceUsage.settle(LoadIT::usage, before, BOUNDS, SETTLE_LIMIT);
            ResourceUsage after = settled.usage();
            List<Map<String, Object>> pythonCalls = pythonCalls(pythonReport);
            long pythonErrors = pythonCalls.stream()
                    .filter(call -> !Boolean.FALSE.equals(call.get("isError")))
                    .count();
            int total = CLIENTS * CALLS + PYTHON_CALLS;
            String report = String.format(
                    "load: %d Java clients x %d calls + %d Python calls = %d calls in %.1f s (%.0f calls/s)%n"
                            + "errors: Java %d, Python %d; call records %d (ALLOWED %d)%n"
                            + "Java call latency p50 %.2f ms, p99 %.2f ms, max %.2f ms%n"
                            + "threads %d -> %d, open fds %d -> %d, heap after GC %.1f MiB -> %.1f MiB"
                            + " (read %.0f s after the run; threads grown: %s)%n",
                    CLIENTS,
                    CALLS,
                    PYTHON_CALLS,
                    total,
                    seconds,
                    total / seconds,
                    java.errors(),
                    pythonErrors,
                    audited,
                    allowed,
                    java.percentile(50),
                    java.percentile(99),
                    java.percentile(100),
                    before.threads(),
                    after.threads(),
                    before.fds(),
                    after.fds(),
                    before.heapBytes() / 1048576.0,
                    after.heapBytes() / 1048576.0,
                    settled.after().toMillis() / 1000.0,
                    after.threadGrowth(before));
            System.err.print(report);
            Files.writeString(Path.of("target", "load-report.txt"), report);

            assertThat(java.errors())
                    .as("Java call errors: %s", java.firstError())
                    .isZero();
            assertThat(pythonReport).doesNotContainKey("error");
            assertThat(pythonCalls).hasSize(PYTHON_CALLS);
            assertThat(pythonErrors).isZero();
            assertThat(audited).as("exactly one call record per call").isEqualTo(total);
            assertThat(allowed).isEqualTo(total);
            assertThat(callIds).as("one call id per call").hasSize(total);
            assertThat(egress).as("one egress effect per call").hasSize(total);
            assertThat(egressOfTheirCall)
                    .as("each egress effect allowed, with the call id, session and tool of its call")
                    .isEqualTo(total);
            after.assertWithin(before, BOUNDS);
        }
    }

    /** What the Java clients saw. */
    private record Result(int errors, String firstError, long[] latencies) {
        double percentile(int p) {
            if (latencies.length == 0) {
                return 0;
            }
            long[] sorted = latencies.clone();
            Arrays.sort(sorted);
            int index = Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1);
            return sorted[Math.max(0, index)] / 1e6;
        }
    }

    private static Result runClients(String resource, String token, String weather, int clients, int calls)
            throws Exception {
        AtomicInteger errors = new AtomicInteger();
        List<String> firstError = new java.util.concurrent.CopyOnWriteArrayList<>();
        long[] latencies = new long[clients * calls];
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<CompletableFuture<Void>> running = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int offset = c * calls;
                running.add(CompletableFuture.runAsync(
                        () -> {
                            McpSyncClient mcp = McpClient.sync(HttpClientStreamableHttpTransport.builder(resource)
                                            .requestBuilder(java.net.http.HttpRequest.newBuilder()
                                                    .header("Authorization", "Bearer " + token))
                                            .build())
                                    .requestTimeout(Duration.ofSeconds(60))
                                    .build();
                            try {
                                mcp.initialize();
                                for (int i = 0; i < calls; i++) {
                                    long start = System.nanoTime();
                                    try {
                                        McpSchema.CallToolResult result =
                                                mcp.callTool(McpSchema.CallToolRequest.builder("fetch_json")
                                                        .arguments(Map.of("url", weather))
                                                        .build());
                                        if (Boolean.TRUE.equals(result.isError())) {
                                            errors.incrementAndGet();
                                            firstError.add(result.content().toString());
                                        }
                                    } catch (RuntimeException e) {
                                        errors.incrementAndGet();
                                        firstError.add(e.toString());
                                    }
                                    latencies[offset + i] = System.nanoTime() - start;
                                }
                            } finally {
                                mcp.closeGracefully();
                            }
                        },
                        pool));
            }
            CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).join();
        } finally {
            pool.shutdown();
        }
        return new Result(errors.get(), firstError.isEmpty() ? "none" : firstError.get(0), latencies);
    }

    private static Map<String, Object> python(String url, String token, String weather, int calls) {
        try {
            String plan = PythonDriver.JSON.writeValueAsString(Map.of(
                    "url",
                    url,
                    "token",
                    token,
                    "calls",
                    List.of(Map.of("tool", "fetch_json", "arguments", Map.of("url", weather))),
                    "repeat",
                    calls));
            PythonMcpClient.Result result = PythonMcpClient.run(
                    Path.of("src", "test", "python", "drive_http.py").toAbsolutePath(),
                    List.of(plan),
                    Duration.ofMinutes(30));
            assertThat(result.exitCode()).as(result.stderr()).isZero();
            return PythonDriver.JSON.readValue(result.stdout(), new TypeRef<Map<String, Object>>() {});
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> pythonCalls(Map<String, Object> report) {
        Object calls = report.get("calls");
        return calls == null ? List.of() : (List<Map<String, Object>>) calls;
    }

    /** Threads, open file descriptors and heap after GC, of this JVM. */
    private static ResourceUsage usage() throws IOException, InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        long fds;
        try (Stream<Path> open = Files.list(Path.of("/proc/self/fd"))) {
            fds = open.count();
        }
        List<String> threads = Thread.getAllStackTraces().keySet().stream()
                .map(Thread::getName)
                .toList();
        return new ResourceUsage(
                threads.size(),
                fds,
                ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(),
                ResourceUsage.kinds(threads.stream()));
    }

    private static void await(java.util.function.BooleanSupplier condition, Duration limit)
            throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
    }
}
