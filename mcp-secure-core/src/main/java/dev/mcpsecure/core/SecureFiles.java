package dev.mcpsecure.core;

import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.FileAccess;
import dev.mcpsecure.api.FilesystemGuard;
import dev.mcpsecure.api.FilesystemPolicy;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.Untrusted;
import dev.mcpsecure.core.internal.files.PolicyFilesystemGuard;
import dev.mcpsecure.core.internal.files.PolicyFilesystemGuard.Resolution;
import dev.mcpsecure.core.internal.pipeline.Effects;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The file API tools use: every path goes through the policy's {@link FilesystemGuard} and is
 * then opened so that nothing swapped in after the check is followed.
 *
 * <p>After the guard resolves a path to its real location inside a root, the file is reached by
 * walking from the root's directory one component at a time, each opened relative to the last
 * with symbolic links refused ({@code openat} with {@code O_NOFOLLOW}, through {@link
 * SecureDirectoryStream}). A directory or file replaced by a symbolic link between the check and
 * the use makes the operation fail with {@link ReasonCode#PATH_SYMLINK_ESCAPE}; it never reads or
 * writes outside the roots. Writes go to a temporary file in the same directory and are renamed
 * over the target atomically: on any failure the old content is intact and nothing half-written is
 * left.
 *
 * <p>Denials throw {@link PolicyViolationException} ({@code PATH_OUTSIDE_ROOTS},
 * {@code PATH_SYMLINK_ESCAPE}, {@code PATH_READ_ONLY}, {@code PATH_SENSITIVE},
 * {@code PATH_INVALID}, {@code FILE_TOO_LARGE}); let it propagate out of the tool, and the
 * pipeline answers the call with that reason code and audits it. Other failures throw {@link
 * IOException} subclasses naming the path as the client sent it, never a resolved host path.
 *
 * <p>Needs a platform with secure directory streams (Linux). Thread-safe. {@link
 * #createDirectories} creates each missing directory by path and then verifies it; a swap in
 * that instant can at worst leave an empty directory where the swapped link points.
 */
public final class SecureFiles {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Set<OpenOption> READ = Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
    private static final Set<OpenOption> CREATE =
            Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);

    private final PolicyFilesystemGuard guard;
    private final long maxFileSize;

    private SecureFiles(PolicyFilesystemGuard guard, long maxFileSize) {
        this.guard = guard;
        this.maxFileSize = maxFileSize;
    }

    /**
     * File access as {@code policy} allows it.
     *
     * @throws IllegalArgumentException naming a root that does not exist
     */
    public static SecureFiles of(FilesystemPolicy policy) {
        return new SecureFiles(new PolicyFilesystemGuard(policy), policy.maxFileSize());
    }

    /** The guard every path passes. */
    public FilesystemGuard guard() {
        return guard;
    }

    /**
     * File access narrowed to the roots the client declared (MCP {@code roots/list}): only where
     * a policy root and a client root overlap. Never wider than this.
     */
    public SecureFiles narrowedTo(Collection<Path> clientRoots) {
        return new SecureFiles(guard.narrowedTo(clientRoots), maxFileSize);
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
     * @throws PolicyViolationException on a denial, including {@code FILE_TOO_LARGE}
     * @throws NoSuchFileException if there is no such file
     */
    public byte[] readBytes(String path) throws IOException {
        return audited("file.read", "read", path, () -> readBytesUnaudited(path));
    }

    private byte[] readBytesUnaudited(String path) throws IOException {
        Resolution target = guard.resolution(path, FileAccess.READ_ONLY);
        try (SecureDirectoryStream<Path> dir = openParent(target, path)) {
            Path name = target.real().getFileName();
            BasicFileAttributes attributes = attributes(dir, name, path);
            if (attributes.isSymbolicLink()) {
                throw deny(ReasonCode.PATH_SYMLINK_ESCAPE, path, "changed while it was being opened");
            }
            if (!attributes.isRegularFile()) {
                throw new IOException("'" + path + "' is not a regular file");
            }
            if (attributes.size() > maxFileSize) {
                throw tooLarge(path, attributes.size());
            }
            try (SeekableByteChannel channel = open(dir, name, READ, path)) {
                return readCapped(channel, path);
            }
        }
    }

    /** Reads a regular file as UTF-8 text; see {@link #readBytes}. */
    public String readText(String path) throws IOException {
        return new String(readBytes(path), StandardCharsets.UTF_8);
    }

    /**
     * Replaces or creates a file atomically, in a read-write root. The parent directory must exist.
     *
     * @throws PolicyViolationException on a denial, including {@code FILE_TOO_LARGE}
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
        Resolution target = guard.resolution(path, FileAccess.READ_WRITE);
        if (content.length > maxFileSize) {
            throw tooLarge(path, content.length);
        }
        if (target.real().equals(target.rootReal())) {
            throw new IOException("'" + path + "' is a directory");
        }
        try (SecureDirectoryStream<Path> dir = openParent(target, path)) {
            Path name = target.real().getFileName();
            BasicFileAttributes existing = attributesIfExists(dir, name);
            if (existing != null && existing.isSymbolicLink()) {
                throw deny(ReasonCode.PATH_SYMLINK_ESCAPE, path, "became a symbolic link; it is never written through");
            }
            if (existing != null && !existing.isRegularFile()) {
                throw new IOException("'" + path + "' is not a regular file");
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
        Resolution target = guard.resolution(path, FileAccess.READ_ONLY);
        List<Entry> entries = new ArrayList<>();
        try (SecureDirectoryStream<Path> dir = openDirectory(target.rootReal(), target.real(), path)) {
            for (Path name : dir) {
                Path entryReal = target.real().resolve(name.getFileName());
                BasicFileAttributes attributes = attributesIfExists(dir, name.getFileName());
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
        Resolution target = guard.linkResolution(path, FileAccess.READ_ONLY);
        if (target.real().equals(target.rootReal())) {
            try (SecureDirectoryStream<Path> dir = openDirectory(target.rootReal(), target.real(), path)) {
                BasicFileAttributes attributes =
                        dir.getFileAttributeView(BasicFileAttributeView.class).readAttributes();
                return new Stat(
                        EntryType.DIRECTORY, 0, attributes.lastModifiedTime().toInstant());
            }
        }
        try (SecureDirectoryStream<Path> dir = openParent(target, path)) {
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
        Resolution target = guard.linkResolution(path, FileAccess.READ_WRITE);
        if (target.real().equals(target.rootReal())) {
            throw deny(ReasonCode.PATH_READ_ONLY, path, "is a root; roots are never deleted");
        }
        try (SecureDirectoryStream<Path> dir = openParent(target, path)) {
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
        Resolution target = guard.resolution(path, FileAccess.READ_WRITE);
        Path current = target.rootReal();
        for (Path name : target.rootReal().relativize(target.real())) {
            if (name.toString().isEmpty()) {
                continue;
            }
            Path next = current.resolve(name);
            try (SecureDirectoryStream<Path> parent = openDirectory(target.rootReal(), current, path)) {
                BasicFileAttributes existing = attributesIfExists(parent, name);
                if (existing == null) {
                    try {
                        Files.createDirectory(next);
                    } catch (FileAlreadyExistsException e) {
                        // created meanwhile: verified below like any existing one
                    }
                } else if (!existing.isDirectory()) {
                    throw new FileAlreadyExistsException(path);
                }
            }
            openDirectory(target.rootReal(), next, path).close();
            current = next;
        }
    }

    private SecureDirectoryStream<Path> openParent(Resolution target, String path) throws IOException {
        return openDirectory(target.rootReal(), target.real().getParent(), path);
    }

    /** Opens {@code dir}, a real path inside {@code root}, from the root down, refusing links. */
    private static SecureDirectoryStream<Path> openDirectory(Path root, Path dir, String path) throws IOException {
        DirectoryStream<Path> opened = Files.newDirectoryStream(root);
        if (!(opened instanceof SecureDirectoryStream<Path> current)) {
            opened.close();
            throw new IOException("this platform has no secure directory streams; SecureFiles needs Linux");
        }
        try {
            for (Path name : root.relativize(dir)) {
                if (name.toString().isEmpty()) {
                    continue;
                }
                SecureDirectoryStream<Path> next;
                try {
                    next = current.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS);
                } catch (NoSuchFileException e) {
                    throw new NoSuchFileException(path);
                } catch (FileSystemException e) {
                    throw deny(ReasonCode.PATH_SYMLINK_ESCAPE, path, "changed while it was being opened");
                }
                current.close();
                current = next;
            }
            return current;
        } catch (IOException | RuntimeException e) {
            current.close();
            throw e;
        }
    }

    private static SeekableByteChannel open(
            SecureDirectoryStream<Path> dir, Path name, Set<OpenOption> options, String path) throws IOException {
        try {
            return dir.newByteChannel(name, options);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(path);
        } catch (FileAlreadyExistsException e) {
            throw new FileAlreadyExistsException(path);
        } catch (FileSystemException e) {
            throw deny(ReasonCode.PATH_SYMLINK_ESCAPE, path, "changed while it was being opened");
        }
    }

    private static BasicFileAttributes attributes(SecureDirectoryStream<Path> dir, Path name, String path)
            throws IOException {
        BasicFileAttributes attributes = attributesIfExists(dir, name);
        if (attributes == null) {
            throw new NoSuchFileException(path);
        }
        return attributes;
    }

    private static BasicFileAttributes attributesIfExists(SecureDirectoryStream<Path> dir, Path name)
            throws IOException {
        try {
            return dir.getFileAttributeView(name, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .readAttributes();
        } catch (NoSuchFileException e) {
            return null;
        }
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
