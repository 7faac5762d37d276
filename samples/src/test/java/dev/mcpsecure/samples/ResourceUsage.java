package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Threads (counted by kind: the name with its digits replaced by {@code #}), open file descriptors
 * and heap after GC of one process, as the load tests read them before and after a run.
 *
 * <p>A pool that grew under load shrinks only after its idle timeout (Jetty's and Reactor's are 60
 * s), so one reading right after a run can count idle workers as a leak. {@link #settle} reads
 * again until the usage is back within its bounds or a deadline passes: a real leak never comes
 * back, and the failure message then names the thread kinds that grew.
 */
record ResourceUsage(int threads, long fds, long heapBytes, Map<String, Integer> threadKinds) {

    /** How far above the baseline a reading may be. */
    record Bounds(int threads, long fds, long heapBytes) {}

    /** A reading of the process; may wait (GC) and fail. */
    interface Reader {
        ResourceUsage read() throws Exception;
    }

    /** The last reading and how long it took to come back within bounds (or the deadline). */
    record Settled(ResourceUsage usage, Duration after) {}

    /** Keeps the kinds sorted by name, so failure messages compare at a glance. */
    ResourceUsage {
        threadKinds = Collections.unmodifiableSortedMap(new TreeMap<>(threadKinds));
    }

    static Map<String, Integer> kinds(java.util.stream.Stream<String> threadNames) {
        return threadNames.collect(
                Collectors.groupingBy(name -> name.replaceAll("\\d+", "#"), Collectors.summingInt(name -> 1)));
    }

    boolean within(ResourceUsage baseline, Bounds bounds) {
        return threads <= baseline.threads + bounds.threads()
                && fds <= baseline.fds + bounds.fds()
                && heapBytes <= baseline.heapBytes + bounds.heapBytes();
    }

    /** Fails naming the reading, and the thread kinds before and after, unless within bounds. */
    void assertWithin(ResourceUsage baseline, Bounds bounds) {
        assertThat(threads)
                .as("threads %s -> %s", baseline.threadKinds, threadKinds)
                .isLessThanOrEqualTo(baseline.threads + bounds.threads());
        assertThat(fds).as("open file descriptors").isLessThanOrEqualTo(baseline.fds + bounds.fds());
        assertThat(heapBytes).as("heap after GC").isLessThanOrEqualTo(baseline.heapBytes + bounds.heapBytes());
    }

    /** The thread kinds with more threads than in {@code baseline}, e.g. {@code qtp#-# +3}. */
    String threadGrowth(ResourceUsage baseline) {
        String grown = threadKinds.entrySet().stream()
                .map(kind ->
                        Map.entry(kind.getKey(), kind.getValue() - baseline.threadKinds.getOrDefault(kind.getKey(), 0)))
                .filter(kind -> kind.getValue() > 0)
                .map(kind -> kind.getKey() + " +" + kind.getValue())
                .collect(Collectors.joining(", "));
        return grown.isEmpty() ? "none" : grown;
    }

    /**
     * Reads until the usage is within {@code bounds} of {@code baseline}, once a second, for at
     * most {@code limit}; returns the last reading.
     */
    static Settled settle(Reader reader, ResourceUsage baseline, Bounds bounds, Duration limit) throws Exception {
        long started = System.nanoTime();
        long deadline = started + limit.toNanos();
        ResourceUsage usage = reader.read();
        while (!usage.within(baseline, bounds) && System.nanoTime() < deadline) {
            Thread.sleep(1_000);
            usage = reader.read();
        }
        return new Settled(usage, Duration.ofNanos(System.nanoTime() - started));
    }
}
