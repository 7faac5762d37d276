package dev.mcpsecure.core.internal.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bound on opens, with a real FIFO: opening one for reading blocks until a writer comes, which
 * is what a FIFO swapped in between the check and the open does to {@code SecureFiles}.
 */
class HeldRootsTest {

    private static final Duration BOUND = Duration.ofMillis(300);

    @Test
    void anOpenThatBlocksIsRefusedAfterTheBoundAndWhatItOpensLaterIsClosed(@TempDir Path tmp) throws Exception {
        Path fifo = tmp.resolve("pipe");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertThat(mkfifo.waitFor()).isZero();
        AtomicReference<FileChannel> opened = new AtomicReference<>();

        try (HeldRoots roots = HeldRoots.open(List.of(tmp.toRealPath()), BOUND)) {
            long start = System.nanoTime();
            PolicyViolationException refused = catchThrowableOfType(
                    PolicyViolationException.class,
                    () -> roots.bounded("pipe", () -> {
                        FileChannel channel = FileChannel.open(fifo, StandardOpenOption.READ);
                        opened.set(channel);
                        return channel;
                    }));
            Duration waited = Duration.ofNanos(System.nanoTime() - start);

            assertThat(refused).isNotNull();
            assertThat(refused.reason()).isEqualTo(ReasonCode.FILE_NOT_REGULAR);
            assertThat(refused.getMessage()).contains("'pipe' did not open within 300 ms");
            assertThat(waited).isBetween(BOUND, BOUND.plusSeconds(1));
            assertThat(opened).as("still blocked: no writer yet").hasValue(null);

            // a writer releases the blocked open; what it opened is closed, not handed to anyone
            FileChannel writer = FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE);
            try {
                long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                while ((opened.get() == null || opened.get().isOpen()) && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
            } finally {
                writer.close();
            }
            assertThat(opened.get()).isNotNull();
            assertThat(opened.get().isOpen()).as("the late channel was closed").isFalse();

            assertThat(roots.bounded(
                                    "pipe",
                                    () -> FileChannel.open(
                                            tmp.resolve("pipe").resolveSibling("file"),
                                            StandardOpenOption.CREATE_NEW,
                                            StandardOpenOption.WRITE))
                            .isOpen())
                    .as("an open that does not block is handed over")
                    .isTrue();
        }
    }

    @Test
    void whatTheWorkThrowsReachesTheCaller(@TempDir Path tmp) throws IOException {
        try (HeldRoots roots = HeldRoots.open(List.of(tmp.toRealPath()), BOUND)) {
            assertThatThrownBy(() -> roots.bounded("x", () -> {
                        throw new java.nio.file.NoSuchFileException("x");
                    }))
                    .isInstanceOf(java.nio.file.NoSuchFileException.class)
                    .hasMessage("x");
        }
    }

    @Test
    void aClosedRootSetRefusesToWork(@TempDir Path tmp) throws IOException {
        HeldRoots roots = HeldRoots.open(List.of(tmp.toRealPath()), BOUND);
        roots.close();
        assertThatThrownBy(() -> roots.bounded("x", () -> Files.newByteChannel(tmp)))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> roots.directory(tmp.toRealPath(), tmp.toRealPath(), "x", true))
                .isInstanceOf(IllegalStateException.class);
    }
}
