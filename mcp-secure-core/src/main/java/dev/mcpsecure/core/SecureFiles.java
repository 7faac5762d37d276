package dev.mcpsecure.core;

import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.FileAccess;
import dev.mcpsecure.api.FilesystemGuard;
import dev.mcpsecure.api.FilesystemPolicy;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.Untrusted;
import dev.mcpsecure.core.internal.files.HeldRoots;
import dev.mcpsecure.core.internal.files.PolicyFilesystemGuard;
import dev.mcpsecure.core.internal.files.PolicyFilesystemGuard.Resolution;
import dev.mcpsecure.core.internal.pipeline.Effects;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The file API tools use: every path goes through the policy's {@link FilesystemGuard} and is
 * then opened so that nothing swapped in after the check is followed.
 *
 * <p>Each root is opened once, when this is made, and held. After the guard resolves a path to its
 * real location inside a root, the file is reached from the root's held handle one component at a
 * time: each component is examined without following it, must be a directory, is opened relative
 * to the last with symbolic links refused ({@code openat} with {@code O_NOFOLLOW}, through {@link
 * SecureDirectoryStream}), and must be what was examined. A directory or file replaced by a
 * symbolic link between the check and the use makes the operation fail with {@link
 * ReasonCode#PATH_SYMLINK_ESCAPE}; a root whose path names something else now (moved, or replaced
 * by a link or another directory) with {@link ReasonCode#ROOT_REPLACED}. Neither is ever followed:
 * nothing is read or written outside the roots. Writes go to a temporary file in the same
 * directory and are renamed over the target atomically: on any failure the old content is intact
 * and nothing half-written is left.
 *
 * <p>Only regular files are read and written: a FIFO, socket or device is refused without being
 * opened ({@link ReasonCode#FILE_NOT_REGULAR}), and so, unless the policy sets {@code
 * allowHardLinks}, is a regular file with more than one hard link ({@link
 * ReasonCode#FILE_HARD_LINKED}), which may be the same file as one outside the roots. Opens run on
 * threads of their own (at most 8), and a caller waits for one at most 2 s: a FIFO put in place in
 * the instant between the check and the open cannot block the tool's thread longer (it is refused
 * with {@link ReasonCode#FILE_NOT_REGULAR}); the opener thread stays blocked until the FIFO gets a
 * writer, and while all 8 are, every open is refused after 2 s.
 *
 * <p>Denials throw {@link PolicyViolationException} ({@code PATH_OUTSIDE_ROOTS}, {@code
 * PATH_SYMLINK_ESCAPE}, {@code PATH_READ_ONLY}, {@code PATH_SENSITIVE}, {@code PATH_INVALID},
 * {@code FILE_TOO_LARGE}, {@code ROOT_REPLACED}, {@code FILE_HARD_LINKED}, {@code
 * FILE_NOT_REGULAR}); let it propagate out of the tool, and the pipeline answers the call with that
 * reason code and audits it. Every operation, allowed, refused or failed, is recorded as an effect
 * of the current call. Other failures throw {@link IOException} subclasses naming the path as the
 * client sent it, never a resolved host path.
 *
 * <p>Needs a platform with secure directory streams (Linux). Thread-safe. Holds one directory
 * handle per root and up to 8 threads (ended when idle for 30 s) until {@link
 * #close} (or until it is unreachable): make one for the server's life. {@link #createDirectories}
 * creates each missing directory by path (Java has no {@code mkdirat}) after checking that the
 * path names the directory it walked to, and then verifies it; a swap in that instant can at worst
 * leave an empty directory where the swapped link points.
 */
public final class SecureFiles implements AutoCloseable {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Set<OpenOption> READ = Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
    private static final Set<OpenOption> CREATE =
            Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
    private static final String CHANGED = "changed while it was being opened";

    private final PolicyFilesystemGuard guard;
    private final HeldRoots roots;
    private final boolean owner;
    private final long maxFileSize;
    private final boolean allowHardLinks;

    private SecureFiles(
            PolicyFilesystemGuard guard, HeldRoots roots, boolean owner, long maxFileSize, boolean allowHardLinks) {
        this.guard = guard;
        this.roots = roots;
        this.owner = owner;
        this.maxFileSize = maxFileSize;
        this.allowHardLinks = allowHardLinks;
    }

    /**
     * File access as {@code policy} allows it; opens and holds each root.
     *
     * @throws IllegalArgumentException naming a root that does not exist or cannot be opened
     */
    public static SecureFiles of(FilesystemPolicy policy) {
        return of(policy, HeldRoots.OPEN_BOUND);
    }

    /** As {@link #of(FilesystemPolicy)}, with a caller waiting at most {@code openBound} for an open. */
    static SecureFiles of(FilesystemPolicy policy, Duration openBound) {
        PolicyFilesystemGuard guard = new PolicyFilesystemGuard(policy);
        return new SecureFiles(
                guard,
                HeldRoots.open(guard.realRoots(), openBound),
                true,
                policy.maxFileSize(),
                policy.allowHardLinks());
    }

    /** The guard every path passes. */
    public FilesystemGuard guard() {
        return guard;
    }

    /**
     * File access narrowed to the roots the client declared (MCP {@code roots/list}): only where
     * a policy root and a client root overlap. Never wider than this. The view walks from this
     * object's held roots; closing the view does nothing, closing this ends both.
     */
    public SecureFiles narrowedTo(Collection<Path> clientRoots) {
        return new SecureFiles(guard.narrowedTo(clientRoots), roots, false, maxFileSize, allowHardLinks);
    }

    /**
     * Releases the held roots and the opener threads, unless this is a view made by {@link
     * #narrowedTo} (then nothing happens). Any use afterwards throws {@link IllegalStateException}.
     */
    @Override
    public void close() {
        if (owner) {
            roots.close();
        }
    }

    /** What {@link #list} reports for one entry. */
    public enum EntryType {
        FILE,
        DIRECTORY,
        SYMLINK,
        OTHER
    }

    /**
     * One directory entry.
     *
     * @param name the entry's name
     * @param type what it is; symbolic links are reported, never followed
     * @param size its size in bytes (0 for links and directories)
     * @param leavesRoots for a link: whether it points outside the roots or at nothing
     */
    public record Entry(String name, EntryType type, long size, boolean leavesRoots) {}

    /**
     * What {@link #stat} reports.
     *
     * @param type what the path is
     * @param size its size in bytes
     * @param lastModified when it last changed
     */
    public record Stat(EntryType type, long size, Instant lastModified) {}

    /**
     * Reads a regular file, at most the policy's file size.
     *
     * @throws PolicyViolationException on a denial, including {@code FILE_TOO_LARGE}, {@code
     *     FILE_NOT_REGULAR} for a FIFO, socket or device and {@code FILE_HARD_LINKED}
     * @throws NoSuchFileException if there is no such file
     */
    public byte[] readBytes(String path) throws IOException {
        return audited("file.read", "read", path, () -> readBytesUnaudited(path));
    }

    private byte[] readBytesUnaudited(String path) throws IOException {
        Resolution target = resolve(path, FileAccess.READ_ONLY, true);
        if (target.real().equals(target.rootReal())) {
            throw new IOException("'" + path + "' is not a regular file");
        }
        try (SeekableByteChannel channel = roots.bounded(path, () -> openRegular(target, path))) {
            return readCapped(channel, path);
        }
    }

    /**
     * Opens the regular file {@code target} for reading: examined first (a link, a directory, a
     * FIFO, socket or device, a hard-linked or too large file is refused unopened), opened without
     * following a link, and checked again on the opened handle (a pipe or socket cannot seek) and
     * by name (still the file examined).
     */
    private SeekableByteChannel openRegular(Resolution target, String path) throws IOException {
        try (SecureDirectoryStream<Path> dir = openParent(target, path)) {
            Path name = target.real().getFileName();
            BasicFileAttributes examined = attributes(dir, name, path);
            requireRegular(examined, target.real(), path, "is never read through");
            if (examined.size() > maxFileSize) {
                throw tooLarge(path, examined.size());
            }
            SeekableByteChannel channel = open(dir, name, READ, path);
            try {
                try {
                    channel.position();
                } catch (IOException e) {
                    throw deny(ReasonCode.FILE_NOT_REGULAR, path, "became a FIFO or socket while it was being opened");
                }
                BasicFileAttributes now = HeldRoots.attributesIfExists(dir, name);
                if (now == null || !Objects.equals(now.fileKey(), examined.fileKey())) {
                    throw deny(ReasonCode.PATH_SYMLINK_ESCAPE, path, CHANGED);
                }
                return channel;
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        }
    }

    /**
     * Refuses what is not a regular file, or is one with other hard links the policy does not
     * allow. A directory is an {@link IOException} ({@code is not a regular file}), not a denial.
     */
    private void requireRegular(BasicFileAttributes attributes, Path real, String path, String linkDenial)
            throws IOException {
        if (attributes.isSymbolicLink()) {
            throw deny(ReasonCode.PATH_SYMLINK_ESCAPE, path, "became a symbolic link; it " + linkDenial);
        }
        if (attributes.isDirectory()) {
            throw new IOException("'" + path + "' is not a regular file");
        }
        if (!attributes.isRegularFile()) {
            throw deny(
                    ReasonCode.FILE_NOT_REGULAR,
                    path,
                    "is a FIFO, socket or device; only regular files are read or written");
        }
        if (!allowHardLinks && linkCount(real, attributes, path) > 1) {
            throw deny(
                    ReasonCode.FILE_HARD_LINKED,
                    path,
                    "has more than one hard link, so it may be a file outside the roots;"
                            + " the policy's filesystem.allowHardLinks allows such files");
        }
    }

    /**
     * The link count of {@code real}, whose examined attributes are {@code attributes}. Java reads
     * link counts by path only; the inode read must be the one examined through the handle.
     */
    private static int linkCount(Path real, BasicFileAttributes attributes, String path) throws IOException {
        Map<String, Object> unix;
        try {
            unix = Files.readAttributes(real, "unix:nlink,fileKey", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            throw deny(ReasonCode.PATH_SYMLINK_ESCAPE, path, CHANGED);
        }
        if (!Objects.equals(unix.get("fileKey"), attributes.fileKey())) {
            throw deny(ReasonCode.PATH_SYMLINK_ESCAPE, path, CHANGED);
        }
        return (Integer) unix.get("nlink");
    }

    /** Reads a regular file as UTF-8 text; see {@link #readBytes}. */
    public String readText(String path) throws IOException {
        return new String(readBytes(path), StandardCharsets.UTF_8);
    }

    /**
     * Replaces or creates a file atomically, in a read-write root. The parent directory must exist.
     * An existing target must be a regular file without other hard links (unless the policy allows
     * them); it is replaced, never written through.
     *
     * @throws PolicyViolationException on a denial, including {@code FILE_TOO_LARGE}, {@code
     *     FILE_NOT_REGULAR} and {@code FILE_HARD_LINKED}
     * @throws NoSuchFileException if the parent directory does not exist
     */
    public void write(String path, byte[] content) throws IOException {
        audited("file.write", "write", path, () -> {
            writeUnaudited(path, content);
            return null;
        });
    }

    private void writeUnaudited(String path, byte[] content) throws IOException {
        Objects.requireNonNull(content, "content");
        Resolution target = resolve(path, FileAccess.READ_WRITE, true);
        if (content.length > maxFileSize) {
            throw tooLarge(path, content.length);
        }
        if (target.real().equals(target.rootReal())) {
            throw new IOException("'" + path + "' is a directory");
        }
        try (SecureDirectoryStream<Path> dir = roots.bounded(path, () -> openParent(target, path))) {
            Path name = target.real().getFileName();
            BasicFileAttributes existing = HeldRoots.attributesIfExists(dir, name);
            if (existing != null) {
                requireRegular(existing, target.real(), path, "is never written through");
            }
            Path temp = Path.of("." + name + ".mcp-secure-" + HexFormat.of().formatHex(randomBytes()) + ".tmp");
            boolean moved = false;
            try {
                try (SeekableByteChannel channel = open(dir, temp, CREATE, path)) {
                    ByteBuffer buffer = ByteBuffer.wrap(content);
                    while (buffer.hasRemaining()) {
                        channel.write(buffer);
                    }
                    if (channel instanceof FileChannel file) {
                        file.force(true);
                    }
                }
                dir.move(temp, dir, name);
                moved = true;
            } finally {
                if (!moved) {
                    deleteQuietly(dir, temp);
                }
            }
        }
    }

    /** Writes UTF-8 text; see {@link #write(String, byte[])}. */
    public void writeText(String path, String text) throws IOException {
        write(path, text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Lists a directory, by name. Sensitive entries are left out; symbolic links are reported
     * with whether they leave the roots, and never followed.
     *
     * @throws NotDirectoryException if the path is not a directory
     */
    public List<Entry> list(String path) throws IOException {
        return audited("file.list", "list", path, () -> listUnaudited(path));
    }

    private List<Entry> listUnaudited(String path) throws IOException {
        Resolution target = resolve(path, FileAccess.READ_ONLY, true);
        List<Entry> entries = new ArrayList<>();
        try (SecureDirectoryStream<Path> dir =
                roots.bounded(path, () -> roots.directory(target.rootReal(), target.real(), path, true))) {
            for (Path name : dir) {
                Path entryReal = target.real().resolve(name.getFileName());
                BasicFileAttributes attributes = HeldRoots.attributesIfExists(dir, name.getFileName());
                if (attributes == null) {
                    continue;
                }
                if (attributes.isSymbolicLink()) {
                    entries.add(new Entry(
                            name.getFileName().toString(), EntryType.SYMLINK, 0, !linkStaysInside(entryReal)));
                } else if (guard.allowsReal(entryReal)) {
                    entries.add(new Entry(
                            name.getFileName().toString(),
                            typeOf(attributes),
                            attributes.isRegularFile() ? attributes.size() : 0,
                            false));
                }
            }
        }
        entries.sort(Comparator.comparing(Entry::name));
        return entries;
    }

    /** Type, size and modification time of a path; symbolic links are not followed. */
    public Stat stat(String path) throws IOException {
        return audited("file.stat", "stat", path, () -> statUnaudited(path));
    }

    private Stat statUnaudited(String path) throws IOException {
        Resolution target = resolve(path, FileAccess.READ_ONLY, false);
        if (target.real().equals(target.rootReal())) {
            try (SecureDirectoryStream<Path> dir =
                    roots.bounded(path, () -> roots.directory(target.rootReal(), target.real(), path, true))) {
                BasicFileAttributes attributes =
                        dir.getFileAttributeView(BasicFileAttributeView.class).readAttributes();
                return new Stat(
                        EntryType.DIRECTORY, 0, attributes.lastModifiedTime().toInstant());
            }
        }
        try (SecureDirectoryStream<Path> dir = roots.bounded(path, () -> openParent(target, path))) {
            BasicFileAttributes attributes = attributes(dir, target.real().getFileName(), path);
            return new Stat(
                    typeOf(attributes),
                    attributes.size(),
                    attributes.lastModifiedTime().toInstant());
        }
    }

    /**
     * Deletes a file, a symbolic link (not its target) or an empty directory, in a read-write
     * root. A root itself cannot be deleted.
     *
     * @throws DirectoryNotEmptyException if the directory is not empty
     */
    public void delete(String path) throws IOException {
        audited("file.delete", "delete", path, () -> {
            deleteUnaudited(path);
            return null;
        });
    }

    private void deleteUnaudited(String path) throws IOException {
        Resolution target = resolve(path, FileAccess.READ_WRITE, false);
        if (target.real().equals(target.rootReal())) {
            throw deny(ReasonCode.PATH_READ_ONLY, path, "is a root; roots are never deleted");
        }
        try (SecureDirectoryStream<Path> dir = roots.bounded(path, () -> openParent(target, path))) {
            Path name = target.real().getFileName();
            BasicFileAttributes attributes = attributes(dir, name, path);
            try {
                if (attributes.isDirectory()) {
                    dir.deleteDirectory(name);
                } else {
                    dir.deleteFile(name);
                }
            } catch (DirectoryNotEmptyException e) {
                throw new DirectoryNotEmptyException(path);
            } catch (NoSuchFileException e) {
                throw new NoSuchFileException(path);
            }
        }
    }

    /** Creates a directory and any missing parents, in a read-write root. */
    public void createDirectories(String path) throws IOException {
        audited("file.mkdir", "create directories", path, () -> {
            createDirectoriesUnaudited(path);
            return null;
        });
    }

    private void createDirectoriesUnaudited(String path) throws IOException {
        Resolution target = resolve(path, FileAccess.READ_WRITE, true);
        roots.bounded(path, () -> createEach(target, path)).close();
    }

    /**
     * Walks from the root to {@code target}, creating each missing directory: by path, after
     * checking that the path names the directory walked to, then opened and verified like any
     * other. Returns the last directory.
     */
    private SecureDirectoryStream<Path> createEach(Resolution target, String path) throws IOException {
        SecureDirectoryStream<Path> current = roots.directory(target.rootReal(), target.rootReal(), path, true);
        try {
            Path currentReal = target.rootReal();
            Path relative = target.rootReal().relativize(target.real());
            int names = relative.toString().isEmpty() ? 0 : relative.getNameCount();
            for (int i = 0; i < names; i++) {
                Path name = relative.getName(i);
                Path next = currentReal.resolve(name);
                BasicFileAttributes existing = HeldRoots.attributesIfExists(current, name);
                if (existing == null) {
                    requireNamedBy(currentReal, current, path);
                    try {
                        Files.createDirectory(next);
                    } catch (FileAlreadyExistsException e) {
                        // created meanwhile: verified below like any existing one
                    }
                } else if (i == names - 1 && !existing.isDirectory() && !existing.isSymbolicLink()) {
                    throw new FileAlreadyExistsException(path);
                }
                SecureDirectoryStream<Path> opened = HeldRoots.step(current, name, path, false);
                current.close();
                current = opened;
                currentReal = next;
            }
            return current;
        } catch (IOException | RuntimeException e) {
            current.close();
            throw e;
        }
    }

    /** Refuses unless {@code real}, looked up by path, is the directory {@code dir} holds. */
    private static void requireNamedBy(Path real, SecureDirectoryStream<Path> dir, String path) throws IOException {
        Object held = dir.getFileAttributeView(BasicFileAttributeView.class)
                .readAttributes()
                .fileKey();
        if (!Objects.equals(held, HeldRoots.keyByName(real))) {
            throw deny(ReasonCode.PATH_SYMLINK_ESCAPE, path, CHANGED);
        }
    }

    /**
     * The guard's resolution of {@code path}, after checking that the root it is written in is
     * still the directory held for it.
     *
     * @param followLast whether a symbolic link as the last component is followed
     */
    private Resolution resolve(String path, FileAccess access, boolean followLast) {
        guard.writtenRoot(path).ifPresent(root -> roots.verify(root, path));
        return followLast ? guard.resolution(path, access) : guard.linkResolution(path, access);
    }

    private SecureDirectoryStream<Path> openParent(Resolution target, String path) throws IOException {
        return roots.directory(target.rootReal(), target.real().getParent(), path, false);
    }

    private static SeekableByteChannel open(
            SecureDirectoryStream<Path> dir, Path name, Set<OpenOption> options, String path) throws IOException {
        try {
            return dir.newByteChannel(name, options);
        } catch (FileSystemException e) {
            throw HeldRoots.openFailed(e, path);
        }
    }

    private static BasicFileAttributes attributes(SecureDirectoryStream<Path> dir, Path name, String path)
            throws IOException {
        BasicFileAttributes attributes = HeldRoots.attributesIfExists(dir, name);
        if (attributes == null) {
            throw new NoSuchFileException(path);
        }
        return attributes;
    }

    private byte[] readCapped(SeekableByteChannel channel, String path) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(maxFileSize + 1, Math.max(channel.size() + 1, 8192)));
        while (true) {
            if (!buffer.hasRemaining()) {
                if (buffer.capacity() > maxFileSize) {
                    throw tooLarge(path, buffer.capacity());
                }
                ByteBuffer bigger = ByteBuffer.allocate((int) Math.min(maxFileSize + 1, (long) buffer.capacity() * 2));
                buffer.flip();
                bigger.put(buffer);
                buffer = bigger;
            }
            if (channel.read(buffer) < 0) {
                break;
            }
        }
        if (buffer.position() > maxFileSize) {
            throw tooLarge(path, buffer.position());
        }
        byte[] content = new byte[buffer.position()];
        buffer.flip();
        buffer.get(content);
        return content;
    }

    private boolean linkStaysInside(Path link) {
        try {
            return guard.allowsReal(link.toRealPath());
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static EntryType typeOf(BasicFileAttributes attributes) {
        if (attributes.isSymbolicLink()) {
            return EntryType.SYMLINK;
        }
        if (attributes.isDirectory()) {
            return EntryType.DIRECTORY;
        }
        return attributes.isRegularFile() ? EntryType.FILE : EntryType.OTHER;
    }

    private PolicyViolationException tooLarge(String path, long size) {
        return deny(ReasonCode.FILE_TOO_LARGE, path, "has " + size + " bytes; the limit is " + maxFileSize);
    }

    private static PolicyViolationException deny(ReasonCode reason, String path, String why) {
        return new PolicyViolationException(Decision.deny(reason, "path '" + path + "' " + why));
    }

    private static void deleteQuietly(SecureDirectoryStream<Path> dir, Path name) {
        try {
            dir.deleteFile(name);
        } catch (IOException e) {
            // nothing was created, or it is already gone
        }
    }

    private static byte[] randomBytes() {
        byte[] bytes = new byte[8];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    /**
     * A client-safe description of a failed file operation, naming no exception class and no
     * host path: {@code no such file or directory}, {@code not a directory}, {@code directory not
     * empty}, {@code already exists}, {@code access denied}, {@code not a symbolic link}, {@code
     * symbolic link loop}, {@code not a regular file}, {@code is a directory}, else {@code I/O
     * error}.
     */
    public static String problem(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof NotDirectoryException) {
            return "not a directory";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "directory not empty";
        }
        if (e instanceof java.nio.file.FileAlreadyExistsException) {
            return "already exists";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "access denied";
        }
        if (e instanceof java.nio.file.NotLinkException) {
            return "not a symbolic link";
        }
        if (e instanceof java.nio.file.FileSystemLoopException) {
            return "symbolic link loop";
        }
        if (e.getMessage() != null && e.getMessage().endsWith("is not a regular file")) {
            return "not a regular file";
        }
        if (e.getMessage() != null && e.getMessage().endsWith("is a directory")) {
            return "is a directory";
        }
        return "I/O error";
    }

    /** One file operation. */
    private interface FileWork<T> {
        T run() throws IOException;
    }

    /**
     * Runs {@code work} and records it as an effect of the current call (none outside a call):
     * allowed, refused with its reason code, or allowed but failed (no such file, and the like).
     */
    private static <T> T audited(String action, String verb, String path, FileWork<T> work) throws IOException {
        if (!Effects.inCall()) {
            return work.run();
        }
        long start = System.nanoTime();
        String what = verb + " " + Untrusted.text(path, 200);
        T result;
        try {
            result = work.run();
        } catch (PolicyViolationException e) {
            Effects.record(action, e.decision(), what, start, null, null);
            throw e;
        } catch (IOException e) {
            Effects.record(action, Decision.allow(), what + " (failed: " + problem(e) + ")", start, null, null);
            throw e;
        }
        Effects.record(action, Decision.allow(), what, start, null, null);
        return result;
    }
}
