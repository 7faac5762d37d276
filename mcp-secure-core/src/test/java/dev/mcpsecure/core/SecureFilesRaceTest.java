package dev.mcpsecure.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.api.FilesystemPolicy;
import dev.mcpsecure.api.FilesystemRoot;
import dev.mcpsecure.api.PolicyViolationException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Time-of-check/time-of-use, on real files: while something keeps swapping what a path names — a
 * directory inside the root for a symbolic link to outside, the root itself for a link to outside,
 * a regular file for a FIFO — operations through SecureFiles never read or write outside the roots
 * and never block the caller beyond the open bound. The swaps are atomic exchanges ({@code
 * renameat2(RENAME_EXCHANGE)}, called from a python3 helper through ctypes) so that both names
 * always exist; without python3, four renames in a Java thread stand in.
 */
class SecureFilesRaceTest {

    private static final int ATTEMPTS = 10_000;

    @Test
    void aDirectorySwappedForALinkIsNeverFollowed(@TempDir Path tmp) throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Path dir = Files.createDirectories(root.resolve("dir"));
        Files.writeString(dir.resolve("file.txt"), "INSIDE");
        Path target = Files.createDirectories(tmp.resolve("outside/target"));
        Files.writeString(target.resolve("file.txt"), "OUTSIDE");
        Path parked = root.resolve("dir.parked");
        Path link = root.resolve("dir.link");
        Files.createSymbolicLink(link, target);
        SecureFiles files = SecureFiles.of(
                FilesystemPolicy.builder().root(FilesystemRoot.readOnly(root)).build());

        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger swaps = new AtomicInteger();
        Thread swapper = new Thread(() -> {
            try {
                while (!stop.get()) {
                    Files.move(dir, parked, StandardCopyOption.ATOMIC_MOVE);
                    Files.move(link, dir, StandardCopyOption.ATOMIC_MOVE);
                    Files.move(dir, link, StandardCopyOption.ATOMIC_MOVE);
                    Files.move(parked, dir, StandardCopyOption.ATOMIC_MOVE);
                    swaps.incrementAndGet();
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        swapper.start();

        int inside = 0;
        int outside = 0;
        int denied = 0;
        int missing = 0;
        try {
            for (int i = 0; i < ATTEMPTS; i++) {
                try {
                    String content = files.readText(root + "/dir/file.txt");
                    if (content.equals("OUTSIDE")) {
                        outside++;
                    } else if (content.equals("INSIDE")) {
                        inside++;
                    }
                } catch (PolicyViolationException e) {
                    denied++;
                } catch (IOException e) {
                    missing++;
                }
            }
        } finally {
            stop.set(true);
            swapper.join();
        }

        String counts = "inside=" + inside + " denied=" + denied + " missing=" + missing + " swaps=" + swaps;
        assertThat(outside)
                .as("reads that returned outside content (%s)", counts)
                .isZero();
        assertThat(inside).as("the legitimate file stays readable (%s)", counts).isPositive();
        assertThat(denied + missing).as("the race was exercised (%s)", counts).isPositive();
        assertThat(inside + denied + missing).isEqualTo(ATTEMPTS);
    }

    @Test
    void aRootSwappedForALinkToOutsideIsNeverFollowedByReadsOrWrites(@TempDir Path tmp) throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.writeString(root.resolve("file.txt"), "INSIDE");
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("file.txt"), "OUTSIDE");
        Path link = Files.createSymbolicLink(tmp.resolve("link"), outside);
        SecureFiles files = SecureFiles.of(
                FilesystemPolicy.builder().root(FilesystemRoot.readWrite(root)).build());
        assertThat(files.readText(root + "/file.txt")).as("before the race").isEqualTo("INSIDE");

        Map<String, Integer> outcomes = new TreeMap<>();
        int outsideReads = 0;
        long swaps;
        long start = System.nanoTime();
        Swapper swapper = Swapper.start(root, link, tmp);
        try {
            for (int i = 0; i < ATTEMPTS; i++) {
                boolean read = i % 2 == 0;
                String outcome;
                try {
                    if (read) {
                        String content = files.readText(root + "/file.txt");
                        outsideReads += content.equals("OUTSIDE") ? 1 : 0;
                        outcome = "read " + content;
                    } else {
                        files.writeText(root + "/written.txt", "W" + i);
                        outcome = "written";
                    }
                } catch (PolicyViolationException e) {
                    outcome = (read ? "read " : "write ") + e.reason();
                } catch (IOException e) {
                    outcome = (read ? "read " : "write ") + SecureFiles.problem(e);
                }
                outcomes.merge(outcome, 1, Integer::sum);
            }
        } finally {
            swaps = swapper.stop();
        }
        long millis = (System.nanoTime() - start) / 1_000_000;

        String counts = outcomes + " swaps=" + swaps + " in " + millis + " ms (" + swapper.how() + ")";
        System.out.println("root swap: " + counts);
        assertThat(outsideReads).as("reads of the outside file (%s)", counts).isZero();
        try (Stream<Path> entries = Files.list(outside)) {
            assertThat(entries.map(p -> p.getFileName().toString()))
                    .as("writes that landed outside (%s)", counts)
                    .containsExactly("file.txt");
        }
        assertThat(Files.readString(outside.resolve("file.txt"))).isEqualTo("OUTSIDE");
        files.writeText(root + "/written.txt", "AFTER");
        assertThat(files.readText(root + "/written.txt"))
                .as("the root back in place serves reads and writes (%s)", counts)
                .isEqualTo("AFTER");
        assertThat(outcomes.keySet())
                .as("the swap was seen and refused (%s)", counts)
                .anyMatch(outcome -> outcome.endsWith("ROOT_REPLACED"));
        assertThat(swaps).isPositive();
    }

    @Test
    void aFifoSwappedInForTheFileNeverBlocksTheCallerPastTheBound(@TempDir Path tmp) throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Path file = root.resolve("file.txt");
        Files.writeString(file, "INSIDE");
        Path fifo = SecureFilesTest.mkfifo(root.resolve("pipe"));
        Duration bound = Duration.ofMillis(200);
        SecureFiles files = SecureFiles.of(
                FilesystemPolicy.builder().root(FilesystemRoot.readOnly(root)).build(), bound);
        assertThat(files.readText(file.toString())).as("before the race").isEqualTo("INSIDE");

        Map<String, Integer> outcomes = new TreeMap<>();
        long slowest = 0;
        long swaps;
        long start = System.nanoTime();
        Swapper swapper = Swapper.start(file, fifo, tmp);
        try {
            for (int i = 0; i < FIFO_ATTEMPTS && System.nanoTime() - start < FIFO_BUDGET.toNanos(); i++) {
                long began = System.nanoTime();
                String outcome;
                try {
                    outcome = "read " + files.readText(file.toString());
                } catch (PolicyViolationException e) {
                    outcome = e.reason() + (e.getMessage().contains("did not open") ? " (bound)" : "");
                } catch (IOException e) {
                    outcome = SecureFiles.problem(e);
                }
                slowest = Math.max(slowest, System.nanoTime() - began);
                outcomes.merge(outcome, 1, Integer::sum);
            }
        } finally {
            swaps = swapper.stop();
            releaseBlockedOpens(file, fifo);
        }

        String counts = outcomes + " swaps=" + swaps + " slowest=" + slowest / 1_000_000 + " ms in "
                + (System.nanoTime() - start) / 1_000_000 + " ms (" + swapper.how() + ")";
        System.out.println("fifo swap: " + counts);
        assertThat(outcomes.keySet())
                .as("nothing but the file's content or a refusal (%s)", counts)
                .allMatch(outcome -> outcome.equals("read INSIDE") || !outcome.startsWith("read "));
        assertThat(Duration.ofNanos(slowest))
                .as("no read blocked past the bound (%s)", counts)
                .isLessThan(bound.plusSeconds(1));
        assertThat(outcomes).as("the FIFO was seen (%s)", counts).containsKey("FILE_NOT_REGULAR");
    }

    private static final int FIFO_ATTEMPTS = 3_000;
    /**
     * Enough for the race to be won a few times: each open that wins it keeps one of the 8 opener
     * threads, and once all are kept every read waits out the bound.
     */
    private static final Duration FIFO_BUDGET = Duration.ofSeconds(5);

    /** Opens whichever of the two names is the FIFO for writing, which ends any open waiting on it. */
    private static void releaseBlockedOpens(Path a, Path b) throws IOException {
        for (Path path : new Path[] {a, b}) {
            if (!Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
                FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)
                        .close();
            }
        }
    }

    /** Keeps exchanging two names until stopped; an even number of exchanges, so both end as they began. */
    private static final class Swapper {
        private static final String EXCHANGE_LOOP = String.join(
                "\n",
                "import ctypes, os, sys",
                "libc = ctypes.CDLL(None, use_errno=True)",
                "a, b, stop = sys.argv[1].encode(), sys.argv[2].encode(), sys.argv[3]",
                "n = 0",
                "print('ready', flush=True)",
                "while not os.path.exists(stop):",
                "    for _ in range(64):",
                "        if libc.renameat2(-100, a, -100, b, 2) != 0:",
                "            sys.exit('renameat2: errno %d' % ctypes.get_errno())",
                "        n += 1",
                "print(n)");

        private final Process process;
        private final BufferedReader printed;
        private final Path stopFile;
        private final Thread thread;
        private final AtomicBoolean stop = new AtomicBoolean();
        private final AtomicLong swaps = new AtomicLong();

        private Swapper(Process process, Path stopFile, Thread thread) {
            this.process = process;
            this.printed = process == null
                    ? null
                    : new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            this.stopFile = stopFile;
            this.thread = thread;
        }

        static Swapper start(Path a, Path b, Path scratch) throws IOException {
            Path stopFile = scratch.resolve("stop-" + a.getFileName());
            try {
                Process process = new ProcessBuilder(
                                "python3", "-c", EXCHANGE_LOOP, a.toString(), b.toString(), stopFile.toString())
                        .redirectError(ProcessBuilder.Redirect.INHERIT)
                        .start();
                Swapper swapper = new Swapper(process, stopFile, null);
                assertThat(swapper.printed.readLine())
                        .as("the exchange helper started")
                        .isEqualTo("ready");
                return swapper;
            } catch (IOException noPython) {
                Path parked = scratch.resolve(a.getFileName() + ".parked");
                Swapper[] self = new Swapper[1];
                Thread thread = new Thread(() -> {
                    try {
                        while (!self[0].stop.get()) {
                            Files.move(a, parked, StandardCopyOption.ATOMIC_MOVE);
                            Files.move(b, a, StandardCopyOption.ATOMIC_MOVE);
                            Files.move(parked, b, StandardCopyOption.ATOMIC_MOVE);
                            Files.move(b, parked, StandardCopyOption.ATOMIC_MOVE);
                            Files.move(a, b, StandardCopyOption.ATOMIC_MOVE);
                            Files.move(parked, a, StandardCopyOption.ATOMIC_MOVE);
                            self[0].swaps.addAndGet(2);
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                self[0] = new Swapper(null, stopFile, thread);
                thread.start();
                return self[0];
            }
        }

        String how() {
            return process != null ? "renameat2 exchange" : "renames";
        }

        /** Stops and returns how many exchanges there were. */
        long stop() throws IOException, InterruptedException {
            if (process == null) {
                stop.set(true);
                thread.join();
                return swaps.get();
            }
            Files.createFile(stopFile);
            String count = printed.readLine();
            assertThat(process.waitFor()).as("the exchange helper").isZero();
            return Long.parseLong(count);
        }
    }
}
