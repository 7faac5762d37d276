package dev.mcpsecure.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mcpsecure.api.FilesystemPolicy;
import dev.mcpsecure.api.FilesystemRoot;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SecureFiles on real temporary directories with real symbolic links. Each row says why it must
 * be allowed or denied; every denial also checks that nothing on disk changed and no content came
 * back.
 */
class SecureFilesTest {

    @TempDir
    Path tmp;

    Path ro;
    Path rw;
    Path outside;
    SecureFiles files;

    /** A policy's view of the tree below: a read-only root, a read-write root, and outside. */
    @BeforeEach
    void buildTree() throws IOException {
        ro = Files.createDirectories(tmp.resolve("ro"));
        rw = Files.createDirectories(tmp.resolve("rw"));
        outside = Files.createDirectories(tmp.resolve("outside"));
        write(outside.resolve("secret.txt"), "OUTSIDE");
        write(outside.resolve("dir/inner.txt"), "OUTSIDE-INNER");
        write(tmp.resolve("ro_evil/secret.txt"), "SIBLING");

        write(ro.resolve("a.txt"), "A");
        write(ro.resolve("nested/deep/file.txt"), "DEEP");
        write(ro.resolve("dot.name.v2.txt"), "DOTS");
        write(ro.resolve("ünïcödé-文件.txt"), "UNICODE");
        write(ro.resolve("%2e%2e/x.txt"), "PERCENT");
        write(ro.resolve(".env"), "API_KEY=1");
        write(ro.resolve(".ssh/id_rsa"), "KEY");
        write(ro.resolve("keys/server.pem"), "PEM");
        write(ro.resolve("id_ed25519"), "KEY2");
        write(ro.resolve("big.bin"), "x".repeat(2048));
        Files.createSymbolicLink(ro.resolve("link-in"), Path.of("a.txt"));
        Files.createSymbolicLink(ro.resolve("link-in-dir"), Path.of("nested"));
        Files.createSymbolicLink(ro.resolve("link-env"), Path.of(".env"));
        Files.createSymbolicLink(ro.resolve("link-out"), Path.of("../outside/secret.txt"));
        Files.createSymbolicLink(ro.resolve("link-out-abs"), outside.resolve("secret.txt"));
        Files.createSymbolicLink(ro.resolve("link-out-dir"), Path.of("../outside"));
        Files.createSymbolicLink(ro.resolve("chain1"), Path.of("chain2"));
        Files.createSymbolicLink(ro.resolve("chain2"), Path.of("../outside/secret.txt"));
        Files.createSymbolicLink(ro.resolve("loop1"), Path.of("loop2"));
        Files.createSymbolicLink(ro.resolve("loop2"), Path.of("loop1"));
        Files.createSymbolicLink(ro.resolve("dangling"), Path.of("missing.txt"));
        Files.createLink(ro.resolve("hard-out"), outside.resolve("secret.txt"));

        write(rw.resolve("existing.txt"), "OLD");
        Files.createDirectories(rw.resolve("notes"));
        Files.createSymbolicLink(rw.resolve("link-out-rw"), Path.of("../outside"));
        Files.createSymbolicLink(rw.resolve("link-to-ro"), Path.of("../ro"));
        Files.createSymbolicLink(rw.resolve("planted"), Path.of("../outside/planted-target.txt"));
        Files.createSymbolicLink(rw.resolve("link-in-rw"), Path.of("notes"));
        Files.createLink(rw.resolve("hard-out-rw"), outside.resolve("dir/inner.txt"));

        files = SecureFiles.of(FilesystemPolicy.builder()
                .root(FilesystemRoot.readOnly(ro))
                .root(FilesystemRoot.readWrite(rw))
                .base(ro)
                .maxFileSize(1024)
                .build());
    }

    private static void write(Path path, String content) throws IOException {
        Files.createDirectories(path.getParent());
        Files.writeString(path, content);
    }

    /** Every path below tmp with its content (or link target), to prove a denial changed nothing. */
    private Map<String, String> snapshot() throws IOException {
        Map<String, String> tree = new TreeMap<>();
        try (Stream<Path> paths = Files.walk(tmp)) {
            for (Path path : paths.toList()) {
                String key = tmp.relativize(path).toString();
                if (Files.isSymbolicLink(path)) {
                    tree.put(key, "-> " + Files.readSymbolicLink(path));
                } else if (Files.isRegularFile(path)) {
                    tree.put(key, Files.readString(path, StandardCharsets.ISO_8859_1));
                } else {
                    tree.put(key, "<dir>");
                }
            }
        }
        return tree;
    }

    enum Op {
        READ,
        WRITE,
        LIST,
        DELETE,
        MKDIRS
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                // what must keep working
                row("a plain file in a read-only root", Op.READ, "{ro}/a.txt", "A"),
                row("nested directories", Op.READ, "{ro}/nested/deep/file.txt", "DEEP"),
                row("dots inside names are not traversal", Op.READ, "{ro}/dot.name.v2.txt", "DOTS"),
                row("unicode names", Op.READ, "{ro}/ünïcödé-文件.txt", "UNICODE"),
                row("a relative path resolves against the base root", Op.READ, "nested/deep/file.txt", "DEEP"),
                row("'..' that stays inside the root", Op.READ, "{ro}/nested/deep/../../a.txt", "A"),
                row("a symlink to a file inside the root", Op.READ, "{ro}/link-in", "A"),
                row("a symlink to a directory inside the root", Op.READ, "{ro}/link-in-dir/deep/file.txt", "DEEP"),
                row("percent-encoding is a literal name, not '..'", Op.READ, "{ro}/%2e%2e/x.txt", "PERCENT"),
                row("a new file in a read-write root", Op.WRITE, "{rw}/new.txt", "ok"),
                row("replacing a file in a read-write root", Op.WRITE, "{rw}/existing.txt", "ok"),
                row("writing through a symlink that stays inside", Op.WRITE, "{rw}/link-in-rw/n.txt", "ok"),
                row("new nested directories in a read-write root", Op.MKDIRS, "{rw}/a/b/c", "ok"),
                row("deleting a symlink deletes the link, not its target", Op.DELETE, "{rw}/link-out-rw", "ok"),
                row("deleting a file in a read-write root", Op.DELETE, "{rw}/existing.txt", "ok"),
                row("listing a directory", Op.LIST, "{ro}/nested", "ok"),

                // prefix and traversal escapes
                row(
                        "sibling with the root's name as prefix (CVE-2025-53110)",
                        Op.READ,
                        "{tmp}/ro_evil/secret.txt",
                        "PATH_OUTSIDE_ROOTS"),
                row("'..' at the start of a relative path", Op.READ, "../outside/secret.txt", "PATH_OUTSIDE_ROOTS"),
                row("'..' in the middle", Op.READ, "{ro}/nested/../../outside/secret.txt", "PATH_OUTSIDE_ROOTS"),
                row("'..' at the end", Op.LIST, "{ro}/..", "PATH_OUTSIDE_ROOTS"),
                row(
                        "'..' far beyond the filesystem root",
                        Op.READ,
                        "{ro}/../../../../../../etc/passwd",
                        "PATH_OUTSIDE_ROOTS"),
                row("'.' and '..' mixed", Op.READ, "{ro}/./nested/./../../outside/./secret.txt", "PATH_OUTSIDE_ROOTS"),
                row("the filesystem root itself", Op.LIST, "/", "PATH_OUTSIDE_ROOTS"),
                row("an absolute path elsewhere", Op.READ, "/etc/passwd", "PATH_OUTSIDE_ROOTS"),
                row(
                        "'..' escaping a read-write root on write",
                        Op.WRITE,
                        "{rw}/../outside/x.txt",
                        "PATH_OUTSIDE_ROOTS"),
                row(
                        "percent-encoded '..' stays literal and leads nowhere",
                        Op.READ,
                        "{ro}/%2e%2e/%2e%2e/outside/secret.txt",
                        "NO_SUCH_FILE"),
                row(
                        "one-dot-leader look-alikes are not '..'",
                        Op.READ,
                        "{ro}/\u2024\u2024/outside/secret.txt",
                        "NO_SUCH_FILE"),
                row(
                        "a fullwidth solidus is not a separator",
                        Op.READ,
                        "{ro}/..\uFF0Foutside\uFF0Fsecret.txt",
                        "NO_SUCH_FILE"),
                row("'~' is never expanded to a home directory", Op.READ, "~/.bashrc", "NO_SUCH_FILE"),

                // symbolic links
                row("a symlink to a file outside (relative target)", Op.READ, "{ro}/link-out", "PATH_SYMLINK_ESCAPE"),
                row(
                        "a symlink to a file outside (absolute target)",
                        Op.READ,
                        "{ro}/link-out-abs",
                        "PATH_SYMLINK_ESCAPE"),
                row(
                        "a symlink to a directory outside",
                        Op.READ,
                        "{ro}/link-out-dir/dir/inner.txt",
                        "PATH_SYMLINK_ESCAPE"),
                row("listing through a symlink to outside", Op.LIST, "{ro}/link-out-dir", "PATH_SYMLINK_ESCAPE"),
                row("a chain of symlinks ending outside", Op.READ, "{ro}/chain1", "PATH_SYMLINK_ESCAPE"),
                row("a symlink loop cannot be resolved", Op.READ, "{ro}/loop1", "PATH_INVALID"),
                row(
                        "a hard link inside a root to a file outside is the outside file",
                        Op.READ,
                        "{ro}/hard-out",
                        "FILE_HARD_LINKED"),
                row(
                        "replacing a hard link would hide that it was one; refused like a read",
                        Op.WRITE,
                        "{rw}/hard-out-rw",
                        "FILE_HARD_LINKED"),
                row("a dangling symlink is not followed", Op.READ, "{ro}/dangling", "PATH_SYMLINK_ESCAPE"),
                row("a symlink planted at the target of a create", Op.WRITE, "{rw}/planted", "PATH_SYMLINK_ESCAPE"),
                row(
                        "creating a file through a symlinked directory outside",
                        Op.WRITE,
                        "{rw}/link-out-rw/new.txt",
                        "PATH_SYMLINK_ESCAPE"),
                row(
                        "creating directories through a symlink outside",
                        Op.MKDIRS,
                        "{rw}/link-out-rw/made/here",
                        "PATH_SYMLINK_ESCAPE"),
                row(
                        "a symlink from a read-write root into a read-only one",
                        Op.WRITE,
                        "{rw}/link-to-ro/new.txt",
                        "PATH_READ_ONLY"),

                // malformed
                row("a NUL byte", Op.READ, "{ro}/a.txt\u0000.png", "PATH_INVALID"),
                row("a newline", Op.READ, "{ro}/a\n.txt", "PATH_INVALID"),
                row("an escape character", Op.READ, "{ro}/\u001b[2Ja.txt", "PATH_INVALID"),
                row(
                        "a path longer than 4096 characters",
                        Op.READ,
                        "{ro}/" + "d/".repeat(2100) + "a.txt",
                        "PATH_INVALID"),
                row("an empty path", Op.READ, "", "PATH_INVALID"),
                row("a regular file used as a directory, on read", Op.READ, "{ro}/a.txt/b", "PATH_INVALID"),
                row("a regular file used as a directory, on write", Op.WRITE, "{rw}/existing.txt/x", "PATH_INVALID"),
                row("a regular file used as a directory, on list", Op.LIST, "{ro}/a.txt/b", "PATH_INVALID"),
                row("a regular file used as a directory, on mkdir", Op.MKDIRS, "{rw}/existing.txt/x/y", "PATH_INVALID"),
                row(
                        "more than 128 levels (deny patterns are checked per level: the cost grows with the square)",
                        Op.READ,
                        "{ro}/" + "d/".repeat(130) + "a.txt",
                        "PATH_INVALID"),

                // modes, sensitive files, sizes
                row("writing into a read-only root", Op.WRITE, "{ro}/a.txt", "PATH_READ_ONLY"),
                row("creating a file in a read-only root", Op.WRITE, "{ro}/new.txt", "PATH_READ_ONLY"),
                row("deleting in a read-only root", Op.DELETE, "{ro}/a.txt", "PATH_READ_ONLY"),
                row("deleting a root itself", Op.DELETE, "{rw}", "PATH_READ_ONLY"),
                row(".env inside a root", Op.READ, "{ro}/.env", "PATH_SENSITIVE"),
                row("a key inside .ssh", Op.READ, "{ro}/.ssh/id_rsa", "PATH_SENSITIVE"),
                row("listing .ssh itself", Op.LIST, "{ro}/.ssh", "PATH_SENSITIVE"),
                row("a *.pem file", Op.READ, "{ro}/keys/server.pem", "PATH_SENSITIVE"),
                row("an id_* key file", Op.READ, "{ro}/id_ed25519", "PATH_SENSITIVE"),
                row("a symlink inside the root to a sensitive file", Op.READ, "{ro}/link-env", "PATH_SENSITIVE"),
                row("a file larger than the policy's cap", Op.READ, "{ro}/big.bin", "FILE_TOO_LARGE"),
                row("content larger than the policy's cap", Op.WRITE, "{rw}/huge.txt", "FILE_TOO_LARGE:2048"),
                row(
                        "writing where the parent does not exist creates nothing",
                        Op.WRITE,
                        "{rw}/no/such/dir/x.txt",
                        "NO_SUCH_FILE"));
    }

    private static Arguments row(String why, Op op, String path, String expected) {
        return Arguments.of(why, op, path, expected);
    }

    private String path(String template) {
        return template.replace("{tmp}", tmp.toString())
                .replace("{ro}", ro.toString())
                .replace("{rw}", rw.toString());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void enforcesThePolicyOnTheRealFilesystem(String why, Op op, String template, String expected) throws Exception {
        String requested = path(template);
        Map<String, String> before = snapshot();
        byte[] content = expected.startsWith("FILE_TOO_LARGE:")
                ? new byte[Integer.parseInt(expected.substring(15))]
                : "NEW".getBytes(StandardCharsets.UTF_8);

        Object[] returned = new Object[1];
        Throwable thrown = catchThrowable(() -> returned[0] = perform(op, requested, content));

        String reason = expected.contains(":") ? expected.substring(0, expected.indexOf(':')) : expected;
        if (reason.equals("ok") || (!reason.equals("NO_SUCH_FILE") && !reason.contains("_"))) {
            assertThat(thrown).as(why).isNull();
            if (op == Op.READ) {
                assertThat(new String((byte[]) returned[0], StandardCharsets.UTF_8))
                        .as(why)
                        .isEqualTo(expected);
            }
            return;
        }
        if (reason.equals("NO_SUCH_FILE")) {
            assertThat(thrown).as(why).isInstanceOf(NoSuchFileException.class);
            assertThat(thrown.getMessage())
                    .as("the message names the path as sent")
                    .isEqualTo(requested);
        } else {
            assertThat(thrown).as(why).isInstanceOf(PolicyViolationException.class);
            PolicyViolationException violation = (PolicyViolationException) thrown;
            assertThat(violation.reason().name()).as(why).isEqualTo(reason);
            assertThat(violation.getMessage())
                    .as("a denial never shows a resolved path outside the roots")
                    .doesNotContain(outside.toString());
        }
        assertThat(returned[0]).as("no content on a denial").isNull();
        assertThat(snapshot()).as(why + ": nothing on disk changed").isEqualTo(before);
    }

    private Object perform(Op op, String path, byte[] content) throws IOException {
        switch (op) {
            case READ:
                return files.readBytes(path);
            case WRITE:
                files.write(path, content);
                return "written";
            case LIST:
                return files.list(path);
            case DELETE:
                files.delete(path);
                return "deleted";
            default:
                files.createDirectories(path);
                return "created";
        }
    }

    @Test
    void deletingALinkToOutsideLeavesItsTargetAlone() throws IOException {
        files.delete(rw + "/link-out-rw");
        assertThat(rw.resolve("link-out-rw")).doesNotExist();
        assertThat(Files.readString(outside.resolve("secret.txt"))).isEqualTo("OUTSIDE");
    }

    @Test
    void writesReplaceAtomicallyAndLeaveNoTemporaryFiles() throws IOException {
        files.writeText(rw + "/existing.txt", "NEW CONTENT");
        files.writeText(rw + "/fresh.txt", "FRESH");

        assertThat(Files.readString(rw.resolve("existing.txt"))).isEqualTo("NEW CONTENT");
        assertThat(Files.readString(rw.resolve("fresh.txt"))).isEqualTo("FRESH");
        try (Stream<Path> entries = Files.list(rw)) {
            assertThat(entries.map(p -> p.getFileName().toString())).noneMatch(name -> name.endsWith(".tmp"));
        }
    }

    @Test
    void aFailedWriteKeepsTheOldContentIntact() throws IOException {
        Files.createDirectories(rw.resolve("target-is-dir"));
        assertThatThrownBy(() -> files.writeText(rw + "/target-is-dir", "x")).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> files.write(rw + "/existing.txt", new byte[4096]))
                .isInstanceOf(PolicyViolationException.class);

        assertThat(Files.readString(rw.resolve("existing.txt"))).isEqualTo("OLD");
        assertThat(Files.isDirectory(rw.resolve("target-is-dir"))).isTrue();
        try (Stream<Path> entries = Files.list(rw)) {
            assertThat(entries.map(p -> p.getFileName().toString())).noneMatch(name -> name.endsWith(".tmp"));
        }
    }

    @Test
    void listingReportsLinksLeavingTheRootsAndHidesSensitiveEntries() throws IOException {
        Map<String, SecureFiles.Entry> entries = new TreeMap<>();
        for (SecureFiles.Entry entry : files.list(ro.toString())) {
            entries.put(entry.name(), entry);
        }

        assertThat(entries).doesNotContainKeys(".env", ".ssh", "id_ed25519");
        assertThat(entries.get("a.txt").type()).isEqualTo(SecureFiles.EntryType.FILE);
        assertThat(entries.get("nested").type()).isEqualTo(SecureFiles.EntryType.DIRECTORY);
        assertThat(entries.get("link-in").leavesRoots()).isFalse();
        assertThat(entries.get("link-out").leavesRoots()).isTrue();
        assertThat(entries.get("link-out-dir").leavesRoots()).isTrue();
        assertThat(entries.get("dangling").leavesRoots()).isTrue();
        assertThat(entries.get("link-env").leavesRoots())
                .as("a link to a sensitive file is not a way in")
                .isTrue();
    }

    @Test
    void relativePathsNeedABaseRoot() {
        SecureFiles noBase = SecureFiles.of(
                FilesystemPolicy.builder().root(FilesystemRoot.readOnly(ro)).build());
        assertThatThrownBy(() -> noBase.readBytes("a.txt"))
                .isInstanceOf(PolicyViolationException.class)
                .hasMessageContaining("is relative");
    }

    @Test
    void clientRootsCanOnlyNarrowThePolicy() throws IOException {
        SecureFiles narrowed = files.narrowedTo(java.util.List.of(ro.resolve("nested"), outside));

        assertThat(narrowed.readText(ro + "/nested/deep/file.txt")).isEqualTo("DEEP");
        assertThatThrownBy(() -> narrowed.readBytes(ro + "/a.txt"))
                .isInstanceOf(PolicyViolationException.class)
                .hasMessageContaining("outside the allowed roots");
        assertThatThrownBy(() -> narrowed.readBytes(outside + "/secret.txt"))
                .as("a client root outside the policy adds nothing")
                .isInstanceOf(PolicyViolationException.class);
        assertThatThrownBy(() -> narrowed.writeText(rw + "/x.txt", "x"))
                .as("a policy root the client did not declare is dropped")
                .isInstanceOf(PolicyViolationException.class);
    }

    @Test
    void statDoesNotFollowLinks() throws IOException {
        assertThat(files.stat(ro + "/link-out").type()).isEqualTo(SecureFiles.EntryType.SYMLINK);
        assertThat(files.stat(ro + "/a.txt").type()).isEqualTo(SecureFiles.EntryType.FILE);
        assertThat(files.stat(ro + "/a.txt").size()).isEqualTo(1);
        assertThat(files.stat(ro.toString()).type()).isEqualTo(SecureFiles.EntryType.DIRECTORY);
    }

    @Test
    void aRootThatDoesNotExistIsAStartupError() {
        assertThatThrownBy(() -> SecureFiles.of(FilesystemPolicy.builder()
                        .root(FilesystemRoot.readOnly(tmp.resolve("missing")))
                        .build()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not exist");
    }

    @Test
    void aFileUsedAsADirectoryIsAnInvalidPathNamingTheFile() {
        assertThatThrownBy(() -> files.readBytes(ro + "/a.txt/b"))
                .isInstanceOf(PolicyViolationException.class)
                .hasMessage("PATH_INVALID: path '" + ro + "/a.txt/b' goes through 'a.txt', which is not a directory");
        assertThatThrownBy(() -> files.list(ro + "/a.txt"))
                .as("the directory listed is itself a file: not a directory, not a denial")
                .isInstanceOf(NotDirectoryException.class)
                .hasMessage(ro + "/a.txt");
    }

    @Test
    void aFifoOrSocketIsRefusedAtOnceWithoutBeingOpened() throws Exception {
        Path fifo = mkfifo(ro.resolve("pipe"));
        Path fifoRw = mkfifo(rw.resolve("pipe"));
        try (ServerSocketChannel socket = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            socket.bind(UnixDomainSocketAddress.of(ro.resolve("sock")));

            assertTimeoutPreemptively(Duration.ofSeconds(1), () -> {
                assertThat(reasonOf(() -> files.readBytes(fifo.toString()))).isEqualTo(ReasonCode.FILE_NOT_REGULAR);
                assertThat(reasonOf(() -> files.readBytes(ro + "/sock"))).isEqualTo(ReasonCode.FILE_NOT_REGULAR);
                assertThat(reasonOf(() -> files.write(fifoRw.toString(), "x".getBytes(StandardCharsets.UTF_8))))
                        .isEqualTo(ReasonCode.FILE_NOT_REGULAR);
                assertThat(reasonOf(() -> files.readBytes(fifo + "/inside")))
                        .as("a FIFO as a directory component is never opened either")
                        .isEqualTo(ReasonCode.PATH_INVALID);
            });
            assertThatThrownBy(() -> files.readBytes(fifo.toString()))
                    .hasMessage("FILE_NOT_REGULAR: path '" + fifo
                            + "' is a FIFO, socket or device; only regular files are read or written");
            assertThat(files.stat(fifo.toString()).type()).isEqualTo(SecureFiles.EntryType.OTHER);
            assertThat(Files.getAttribute(fifoRw, "unix:mode", LinkOption.NOFOLLOW_LINKS))
                    .as("the FIFO written to is still a FIFO, not replaced")
                    .isEqualTo(Files.getAttribute(fifo, "unix:mode", LinkOption.NOFOLLOW_LINKS));
        }
    }

    @Test
    void hardLinksAreReadAndReplacedOnlyWhenThePolicyAllowsThem() throws IOException {
        assertThat(reasonOf(() -> files.readBytes(ro + "/hard-out"))).isEqualTo(ReasonCode.FILE_HARD_LINKED);
        assertThatThrownBy(() -> files.readBytes(ro + "/hard-out"))
                .hasMessageContaining("filesystem.allowHardLinks")
                .hasMessageNotContaining(outside.toString());

        try (SecureFiles allowing = SecureFiles.of(FilesystemPolicy.builder()
                .root(FilesystemRoot.readOnly(ro))
                .root(FilesystemRoot.readWrite(rw))
                .allowHardLinks(true)
                .build())) {
            assertThat(allowing.readText(ro + "/hard-out")).isEqualTo("OUTSIDE");
            allowing.writeText(rw + "/hard-out-rw", "REPLACED");
        }
        assertThat(Files.readString(rw.resolve("hard-out-rw"))).isEqualTo("REPLACED");
        assertThat(Files.readString(outside.resolve("dir/inner.txt")))
                .as("a write replaces the name; it never writes through the link")
                .isEqualTo("OUTSIDE-INNER");
    }

    @Test
    void aRootReplacedAfterItWasOpenedIsRefusedNeverFollowed() throws IOException {
        Path moved = tmp.resolve("rw.moved");
        Files.move(rw, moved);
        Files.createSymbolicLink(rw, outside);
        Map<String, String> before = snapshot();

        assertThat(reasonOf(() -> files.readBytes(rw + "/secret.txt"))).isEqualTo(ReasonCode.ROOT_REPLACED);
        assertThat(reasonOf(() -> files.write(rw + "/planted.txt", new byte[1])))
                .isEqualTo(ReasonCode.ROOT_REPLACED);
        assertThat(reasonOf(() -> files.list(rw.toString()))).isEqualTo(ReasonCode.ROOT_REPLACED);
        assertThat(snapshot()).isEqualTo(before);

        Files.delete(rw);
        Files.createDirectories(rw);
        Files.writeString(rw.resolve("existing.txt"), "IMPOSTOR");
        assertThat(reasonOf(() -> files.readBytes(rw + "/existing.txt")))
                .as("another directory under the root's name is not the root")
                .isEqualTo(ReasonCode.ROOT_REPLACED);

        Files.delete(rw.resolve("existing.txt"));
        Files.delete(rw);
        Files.move(moved, rw);
        assertThat(files.readText(rw + "/existing.txt"))
                .as("the root back in place")
                .isEqualTo("OLD");
    }

    @Test
    void closingReleasesTheRootsAndAViewSharesThem() throws IOException {
        SecureFiles view = files.narrowedTo(java.util.List.of(ro));
        view.close();
        assertThat(files.readText(ro + "/a.txt"))
                .as("closing a view leaves its origin open")
                .isEqualTo("A");
        assertThat(view.readText(ro + "/a.txt")).isEqualTo("A");

        files.close();
        assertThatThrownBy(() -> files.readText(ro + "/a.txt")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> view.readText(ro + "/a.txt")).isInstanceOf(IllegalStateException.class);
    }

    static Path mkfifo(Path path) throws IOException, InterruptedException {
        Process mkfifo = new ProcessBuilder("mkfifo", path.toString())
                .redirectErrorStream(true)
                .start();
        assertThat(mkfifo.waitFor()).as("mkfifo %s", path).isZero();
        return path;
    }

    /** The reason code of the denial {@code work} throws. */
    static ReasonCode reasonOf(ThrowingCallable work) {
        Throwable thrown = catchThrowable(work);
        assertThat(thrown).isInstanceOf(PolicyViolationException.class);
        return ((PolicyViolationException) thrown).reason();
    }
}
