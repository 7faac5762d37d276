package dev.mcpsecure.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.api.FilesystemPolicy;
import dev.mcpsecure.api.FilesystemRoot;
import dev.mcpsecure.api.PolicyViolationException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Time-of-check/time-of-use: while one thread keeps swapping a directory inside the root for a
 * symbolic link to outside and back, reads through SecureFiles never return the outside content.
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
}
