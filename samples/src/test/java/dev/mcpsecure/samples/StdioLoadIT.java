package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelcontextprotocol.json.TypeRef;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo server over stdio, as a real process, under one client's stream of calls: no errors,
 * one call record per call in its audit file, and the process's threads, open file descriptors and heap after GC
 * (read from /proc and with jcmd) back within bounds of their values after warm-up (read again for
 * up to 90 s while idle pools shrink; see {@link ResourceUsage}). CI makes
 * {@code load.stdioCalls} = 500 calls; the full run 20,000 (docs/reliability.md).
 */
class StdioLoadIT {

    private static final int CALLS = Integer.getInteger("load.stdioCalls", 500);
    private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");

    private static final ResourceUsage.Bounds BOUNDS = new ResourceUsage.Bounds(4, 4, 32L << 20);

    @TempDir
    Path tmp;

    @Test
    void oneClientManyCallsNoErrorsNoLeaks() throws Exception {
        // the demo's echo keeps the default rate limit of 60 calls a minute: raised for a load test
        Path policy = SamplePolicy.copy(
                tmp,
                "demo.yaml",
                text -> text.replace(
                        "  - name: echo                  #", "  - name: echo\n    rateLimit: 1000000/1m  #"));
        try (RawStdioServer server = RawStdioServer.start(policy)) {
            calls(server, 1, 200); // warm-up
            long pid = server.process.pid();
            ResourceUsage before = usage(pid);
            long[] latencies = new long[CALLS];
            long started = System.nanoTime();
            int errors = 0;
            for (int i = 0; i < CALLS; i++) {
                long start = System.nanoTime();
                errors += calls(server, 1_000 + i, 1);
                latencies[i] = System.nanoTime() - start;
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            ResourceUsage.Settled settled =
                    ResourceUsage.settle(() -> usage(pid), before, BOUNDS, Duration.ofSeconds(90));
            ResourceUsage after = settled.usage();
            assertThat(server.closeStdin()).isZero();

            List<Map<String, Object>> audit = server.audit();
            long audited = AuditRecords.calls(audit).stream()
                    .filter(line -> "echo".equals(line.get("tool")))
                    .count();
            Arrays.sort(latencies);
            String report = String.format(
                    "stdio load: %d calls in %.1f s (%.0f calls/s), errors %d, call records %d (with warm-up 200)%n"
                            + "latency p50 %.3f ms, p99 %.3f ms%n"
                            + "server threads %d -> %d, open fds %d -> %d, heap after GC %d KiB -> %d KiB"
                            + " (read %.0f s after the run; threads grown: %s)%n",
                    CALLS,
                    seconds,
                    CALLS / seconds,
                    errors,
                    audited,
                    latencies[CALLS / 2] / 1e6,
                    latencies[Math.max(0, (int) Math.ceil(CALLS * 0.99) - 1)] / 1e6,
                    before.threads(),
                    after.threads(),
                    before.fds(),
                    after.fds(),
                    before.heapBytes() >> 10,
                    after.heapBytes() >> 10,
                    settled.after().toMillis() / 1000.0,
                    after.threadGrowth(before));
            System.err.print(report);
            Files.writeString(Path.of("target", "stdio-load-report.txt"), report);

            assertThat(errors).isZero();
            assertThat(audited).as("one call record per call").isEqualTo(CALLS + 200);
            assertThat(AuditRecords.calls(audit))
                    .as("every call record is an echo's")
                    .hasSize(CALLS + 200);
            assertThat(AuditRecords.ofKind(audit, "effect"))
                    .as("echo uses nothing")
                    .isEmpty();
            after.assertWithin(before, BOUNDS);
        }
    }

    /** Makes {@code count} echo calls from id {@code firstId}; returns how many failed. */
    @SuppressWarnings("unchecked")
    private static int calls(RawStdioServer server, int firstId, int count) throws IOException {
        int errors = 0;
        for (int i = 0; i < count; i++) {
            int id = firstId + i;
            server.send("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/call\",\"params\":{\"name\":"
                    + "\"echo\",\"arguments\":{\"text\":\"call " + id + "\"}}}");
            String line = server.readLine();
            Map<String, Object> answer = PythonDriver.JSON.readValue(line, new TypeRef<Map<String, Object>>() {});
            Map<String, Object> result = (Map<String, Object>) answer.get("result");
            if (result == null || !Boolean.FALSE.equals(result.get("isError")) || !line.contains("call " + id)) {
                errors++;
            }
        }
        return errors;
    }

    /** The server process's threads and open fds (/proc) and its heap after a full GC (jcmd). */
    private static ResourceUsage usage(long pid) throws IOException, InterruptedException {
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        run(List.of(jcmd, String.valueOf(pid), "GC.run"));
        String heap = run(List.of(jcmd, String.valueOf(pid), "GC.heap_info"));
        Matcher used = HEAP_USED.matcher(heap);
        assertThat(used.find()).as(heap).isTrue();
        List<String> threads = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc", String.valueOf(pid), "task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    threads.add(Files.readString(task.resolve("comm")).trim());
                } catch (NoSuchFileException ended) {
                    // the thread ended between the listing and the read
                }
            }
        }
        long fds;
        try (Stream<Path> open = Files.list(Path.of("/proc", String.valueOf(pid), "fd"))) {
            fds = open.count();
        }
        return new ResourceUsage(
                threads.size(), fds, Long.parseLong(used.group(1)) << 10, ResourceUsage.kinds(threads.stream()));
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return output;
    }
}
