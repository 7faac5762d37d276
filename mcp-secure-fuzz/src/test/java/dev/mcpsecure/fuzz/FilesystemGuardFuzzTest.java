package dev.mcpsecure.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.mcpsecure.api.FileAccess;
import dev.mcpsecure.api.FilesystemPolicy;
import dev.mcpsecure.api.FilesystemRoot;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.core.internal.files.PolicyFilesystemGuard;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Set;

/**
 * Path resolution on hostile paths, against a tree with a read-only and a read-write root,
 * symbolic links inside and out of the roots, a link loop and a sensitive file.
 *
 * <p>Property: whatever the guard allows resolves inside a root whose access grants the operation
 * (read-only roots never for writes), contains no symbolic link on the way there, and is never a
 * sensitive file; everything else is a {@link PolicyViolationException} with a path reason code.
 * Any other exception is a finding.
 */
class FilesystemGuardFuzzTest {

    private static final Set<ReasonCode> PATH_REASONS = Set.of(
            ReasonCode.PATH_INVALID,
            ReasonCode.PATH_OUTSIDE_ROOTS,
            ReasonCode.PATH_SYMLINK_ESCAPE,
            ReasonCode.PATH_READ_ONLY,
            ReasonCode.PATH_SENSITIVE);

    private static final Path TREE = tree();
    private static final Path READ_ONLY = real(TREE.resolve("project"));
    private static final Path READ_WRITE = real(TREE.resolve("scratch"));
    private static final PolicyFilesystemGuard GUARD = new PolicyFilesystemGuard(FilesystemPolicy.builder()
            .root(FilesystemRoot.readOnly(READ_ONLY))
            .root(new FilesystemRoot(READ_WRITE, FileAccess.READ_WRITE))
            .base(READ_ONLY)
            .build());

    private static Path tree() {
        try {
            Path tree = Files.createTempDirectory("mcp-secure-fuzz-fs");
            Path project = Files.createDirectories(tree.resolve("project/src"));
            Path scratch = Files.createDirectories(tree.resolve("scratch/out"));
            Files.writeString(project.resolve("Main.java"), "class Main {}");
            Files.writeString(tree.resolve("project/.env"), "SECRET=1");
            Files.writeString(tree.resolve("outside.txt"), "outside");
            Files.createSymbolicLink(tree.resolve("project/escape"), Path.of("/etc"));
            Files.createSymbolicLink(tree.resolve("project/up"), Path.of(".."));
            Files.createSymbolicLink(tree.resolve("project/loop"), Path.of("loop"));
            Files.createSymbolicLink(tree.resolve("scratch/to-project"), project);
            Files.createSymbolicLink(scratch.resolve("sibling"), tree.resolve("outside.txt"));
            return tree;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path real(Path path) {
        try {
            return path.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The first byte picks the access (odd: READ_WRITE); the rest is the path, decoded as UTF-8. */
    @FuzzTest(maxDuration = "10m")
    void allowsOnlyPathsInsideARootWithTheRightAccess(byte[] input) throws IOException {
        if (input.length == 0) {
            return;
        }
        FileAccess access = (input[0] & 1) == 1 ? FileAccess.READ_WRITE : FileAccess.READ_ONLY;
        String requested = new String(input, 1, input.length - 1, StandardCharsets.UTF_8);
        Path resolved;
        try {
            resolved = GUARD.resolve(requested, access);
        } catch (PolicyViolationException e) {
            assertThat(PATH_REASONS).contains(e.decision().reason());
            return;
        }
        assertThat(resolved.isAbsolute()).isTrue();
        assertThat(resolved.normalize()).isEqualTo(resolved);
        boolean inReadWrite = resolved.startsWith(READ_WRITE);
        boolean inReadOnly = resolved.startsWith(READ_ONLY);
        assertThat(inReadWrite || inReadOnly)
                .as("%s is inside a root", resolved)
                .isTrue();
        if (access != FileAccess.READ_ONLY) {
            assertThat(inReadWrite).as("%s may be written", resolved).isTrue();
        }
        assertThat(resolved.getFileName() == null ? "" : resolved.getFileName().toString())
                .isNotEqualTo(".env");
        Path root = inReadWrite ? READ_WRITE : READ_ONLY;
        for (Path step = resolved; step != null && !step.equals(root); step = step.getParent()) {
            assertThat(Files.isSymbolicLink(step))
                    .as("%s on the way is no symbolic link", step)
                    .isFalse();
        }
        if (Files.exists(resolved, LinkOption.NOFOLLOW_LINKS)) {
            assertThat(resolved.toRealPath()).isEqualTo(resolved);
        }
    }
}
