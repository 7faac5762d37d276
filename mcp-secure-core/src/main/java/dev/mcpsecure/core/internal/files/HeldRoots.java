package dev.mcpsecure.core.internal.files;

import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.Untrusted;
import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.ref.Cleaner;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The filesystem roots, each opened once, and the walk to any directory below them.
 *
 * <p>Each root is opened when this is made and held open as a directory handle until {@link
 * #close}. A directory below a root is reached from that handle one component at a time: each
 * component is first examined without following it ({@code fstatat}), must be a directory, is then
 * opened relative to the last with symbolic links refused ({@code openat}, {@code O_NOFOLLOW}), and
 * the opened handle must be the directory examined (same device and inode). So no path is ever
 * reopened by name from the top, and a root whose path later names something else (moved, or
 * replaced by a symbolic link or another directory) is never followed: it is refused with {@link
 * ReasonCode#ROOT_REPLACED}.
 *
 * <p>Java cannot open a file without the risk of blocking: it offers no {@code O_NONBLOCK}, no
 * {@code O_DIRECTORY} relative to a handle and no {@code O_PATH}, and opening a FIFO for reading
 * waits for a writer. A FIFO is refused from its examination before anything opens it, but one put
 * in place in the instant between the examination and the open would block it. So every open runs
 * through {@link #bounded}: on one of at most {@value #OPEN_THREADS} threads of this object, with
 * the caller waiting at most the open bound and then refused ({@link ReasonCode#FILE_NOT_REGULAR}).
 * A thread whose open stays blocked stays blocked until someone opens that FIFO for writing (what
 * it opened is closed then); while all of them are blocked, every open is refused after the bound.
 *
 * <p>Thread-safe. A held root is released by {@link #close}, or when this object becomes
 * unreachable.
 */
public final class HeldRoots implements AutoCloseable {

    /** How long a caller waits for an open (its queueing included) before it is refused. */
    public static final Duration OPEN_BOUND = Duration.ofSeconds(2);

    /** Most opens running at once, and so most threads a FIFO swapped in can keep blocked. */
    public static final int OPEN_THREADS = 8;

    private static final Cleaner CLEANER = Cleaner.create();
    private static final Path SELF = Path.of(".");
    private static final String CHANGED = "changed while it was being opened";

    private final List<Held> roots;
    private final Duration bound;
    private final Resources resources;
    private final Cleaner.Cleanable cleanable;

    /** A root's real path, its held handle and its identity (device and inode) when opened. */
    private record Held(Path real, SecureDirectoryStream<Path> dir, Object key) {

        /** @throws PolicyViolationException with {@code ROOT_REPLACED} if the path names another file now */
        void verify(String path) {
            if (!key.equals(keyByName(real))) {
                throw deny(
                        ReasonCode.ROOT_REPLACED,
                        path,
                        "is in a root that was moved or replaced after it was opened; it is not followed");
            }
        }
    }

    /** What {@link #close} and the cleaner release; refers to nothing that refers to it. */
    private static final class Resources implements Runnable {
        private final List<SecureDirectoryStream<Path>> dirs = new ArrayList<>();
        private final ThreadPoolExecutor openers;
        private volatile boolean closed;

        Resources(ThreadPoolExecutor openers) {
            this.openers = openers;
        }

        @Override
        public void run() {
            closed = true;
            openers.shutdown();
            for (SecureDirectoryStream<Path> dir : dirs) {
                closeQuietly(dir);
            }
        }
    }

    private HeldRoots(List<Held> roots, Duration bound, Resources resources) {
        this.roots = List.copyOf(roots);
        this.bound = bound;
        this.resources = resources;
        this.cleanable = CLEANER.register(this, resources);
    }

    /**
     * Opens each of {@code realRoots} and holds it.
     *
     * @param realRoots real paths (no symbolic links in them) of existing directories
     * @param bound how long a caller waits for one open
     * @throws IllegalArgumentException naming a root that cannot be opened, or that changed while
     *     it was being opened
     */
    public static HeldRoots open(List<Path> realRoots, Duration bound) {
        Objects.requireNonNull(bound, "bound");
        AtomicInteger count = new AtomicInteger();
        ThreadPoolExecutor openers = new ThreadPoolExecutor(
                OPEN_THREADS, OPEN_THREADS, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), task -> {
                    Thread thread = new Thread(task, "mcp-secure-files-open-" + count.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        openers.allowCoreThreadTimeOut(true);
        Resources resources = new Resources(openers);
        List<Held> held = new ArrayList<>();
        try {
            for (Path real : realRoots) {
                held.add(hold(real, resources));
            }
        } catch (RuntimeException e) {
            resources.run();
            throw e;
        }
        held.sort(Comparator.comparingInt((Held root) -> root.real().getNameCount())
                .reversed());
        return new HeldRoots(held, bound, resources);
    }

    private static Held hold(Path real, Resources resources) {
        try {
            DirectoryStream<Path> opened = Files.newDirectoryStream(real);
            if (!(opened instanceof SecureDirectoryStream<Path> dir)) {
                opened.close();
                throw new IllegalArgumentException(
                        "this platform has no secure directory streams; SecureFiles needs Linux");
            }
            resources.dirs.add(dir);
            Object key = dir.getFileAttributeView(BasicFileAttributeView.class)
                    .readAttributes()
                    .fileKey();
            if (key == null || !key.equals(keyByName(real))) {
                throw new IllegalArgumentException(
                        "filesystem root " + real + " changed while it was being opened; check who else writes there");
            }
            return new Held(real, dir, key);
        } catch (IOException e) {
            throw new IllegalArgumentException("filesystem root " + real + " cannot be opened: " + e.getMessage(), e);
        }
    }

    /**
     * Checks that the held root containing {@code rootReal} is still the directory its path names.
     *
     * @param path the path as the client sent it, for the denial
     * @throws PolicyViolationException with {@link ReasonCode#ROOT_REPLACED} if not
     */
    public void verify(Path rootReal, String path) {
        held(rootReal).verify(path);
    }

    /**
     * Opens {@code dir}, a real path inside {@code rootReal}, walking from the held root with
     * every component examined, opened without following links and compared with what was
     * examined. The held root is {@linkplain #verify verified} first. The caller closes the
     * result. Opens: run it through {@link #bounded}.
     *
     * @param target whether {@code dir} is what the operation acts on (a file there is {@link
     *     NotDirectoryException}) rather than a directory on the way to it ({@code PATH_INVALID})
     * @throws PolicyViolationException with {@code ROOT_REPLACED}, {@code PATH_SYMLINK_ESCAPE}
     *     (something changed while it was being opened) or {@code PATH_INVALID}
     * @throws NoSuchFileException naming {@code path} if a component does not exist
     */
    public SecureDirectoryStream<Path> directory(Path rootReal, Path dir, String path, boolean target)
            throws IOException {
        Held root = held(rootReal);
        if (!dir.startsWith(root.real())) {
            throw new IllegalArgumentException("a walk never leaves its root");
        }
        root.verify(path);
        Path relative = root.real().relativize(dir);
        int names = relative.toString().isEmpty() ? 0 : relative.getNameCount();
        SecureDirectoryStream<Path> current = null;
        try {
            for (int i = 0; i < names; i++) {
                SecureDirectoryStream<Path> next = step(
                        current == null ? root.dir() : current, relative.getName(i), path, target && i == names - 1);
                if (current != null) {
                    current.close();
                }
                current = next;
            }
            return current != null ? current : root.dir().newDirectoryStream(SELF, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException | RuntimeException e) {
            if (current != null) {
                current.close();
            }
            throw e;
        }
    }

    /**
     * Opens the directory {@code name} in {@code parent}: examined without following it, opened
     * with links refused, and compared with what was examined. See {@link #directory}.
     */
    public static SecureDirectoryStream<Path> step(
            SecureDirectoryStream<Path> parent, Path name, String path, boolean target) throws IOException {
        BasicFileAttributes examined = attributesIfExists(parent, name);
        if (examined == null) {
            throw new NoSuchFileException(path);
        }
        if (examined.isSymbolicLink()) {
            throw deny(ReasonCode.PATH_SYMLINK_ESCAPE, path, CHANGED);
        }
        if (!examined.isDirectory()) {
            if (target) {
                throw new NotDirectoryException(path);
            }
            throw deny(
                    ReasonCode.PATH_INVALID,
                    path,
                    "goes through '" + Untrusted.text(name.toString(), 100) + "', which is not a directory");
        }
        SecureDirectoryStream<Path> next;
        try {
            next = parent.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS);
        } catch (FileSystemException e) {
            throw openFailed(e, path);
        }
        try {
            Object opened = next.getFileAttributeView(BasicFileAttributeView.class)
                    .readAttributes()
                    .fileKey();
            if (!Objects.equals(opened, examined.fileKey())) {
                throw deny(ReasonCode.PATH_SYMLINK_ESCAPE, path, CHANGED);
            }
            return next;
        } catch (IOException | RuntimeException e) {
            next.close();
            throw e;
        }
    }

    /**
     * What an open relative to a held directory that failed with {@code e} throws: no such file,
     * already exists and access denied name the path as the client sent it; anything else (a link
     * or a file of another kind put in the way) is a denial.
     *
     * @throws PolicyViolationException with {@code PATH_SYMLINK_ESCAPE}, for anything else
     */
    public static IOException openFailed(FileSystemException e, String path) {
        if (e instanceof NoSuchFileException) {
            return new NoSuchFileException(path);
        }
        if (e instanceof FileAlreadyExistsException) {
            return new FileAlreadyExistsException(path);
        }
        if (e instanceof AccessDeniedException) {
            return new AccessDeniedException(path);
        }
        throw deny(ReasonCode.PATH_SYMLINK_ESCAPE, path, CHANGED);
    }

    /** The identity (device and inode) of what {@code path} names now, a last link not followed; {@code null} if nothing. */
    public static Object keyByName(Path path) {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                    .fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    /** The attributes of {@code name} in {@code dir}, not following a link; {@code null} if absent. */
    public static BasicFileAttributes attributesIfExists(SecureDirectoryStream<Path> dir, Path name)
            throws IOException {
        try {
            return dir.getFileAttributeView(name, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .readAttributes();
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** Work that opens something, run by {@link #bounded}. */
    @FunctionalInterface
    public interface Opening<T extends Closeable> {
        /** Opens it; the caller of {@link #bounded} owns the result. */
        T open() throws IOException;
    }

    /**
     * Runs {@code work}, which may block in an open, on a thread of this object and waits for it at
     * most the open bound. When the bound passes, the work is abandoned (what it opens later is
     * closed at once) and the caller refused.
     *
     * @param path the path as the client sent it, for the denial
     * @throws PolicyViolationException with {@link ReasonCode#FILE_NOT_REGULAR} when the bound
     *     passed, or whatever {@code work} throws
     * @throws InterruptedIOException if the caller was interrupted while waiting (its interrupt
     *     status is kept)
     * @throws IllegalStateException if this was closed
     */
    public <T extends Closeable> T bounded(String path, Opening<T> work) throws IOException {
        Handoff<T> handoff = new Handoff<>(work);
        Future<?> running;
        try {
            running = resources.openers.submit(handoff);
        } catch (RejectedExecutionException e) {
            throw closed();
        }
        try {
            return handoff.result.get(bound.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            if (handoff.abandon(running)) {
                // still queued (every opener blocked): out of the queue, so waiting work cannot pile up
                resources.openers.remove((Runnable) running);
                throw deny(
                        ReasonCode.FILE_NOT_REGULAR,
                        path,
                        "did not open within " + bound.toMillis()
                                + " ms; something that blocks an open (a FIFO or a device) may have been put in its place");
            }
            return handoff.done();
        } catch (InterruptedException e) {
            if (!handoff.abandon(running)) {
                closeQuietly(handoff.done());
            }
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while opening '" + path + "'");
        } catch (ExecutionException e) {
            throw rethrown(e.getCause());
        }
    }

    /** One piece of work handed to an opener thread, and its result unless the caller gave up. */
    private static final class Handoff<T extends Closeable> implements Runnable {
        private final Opening<T> work;
        private final CompletableFuture<T> result = new CompletableFuture<>();
        private boolean abandoned;

        Handoff(Opening<T> work) {
            this.work = work;
        }

        @Override
        public void run() {
            T value = null;
            boolean opened = false;
            try {
                value = work.open();
                opened = true;
            } catch (Exception e) {
                result.completeExceptionally(e);
                return;
            } finally {
                if (!opened && !result.isDone()) {
                    // an Error goes on up this thread; the caller is told at once instead of waiting
                    result.completeExceptionally(new IOException("the open failed in the opener thread"));
                }
            }
            synchronized (this) {
                if (!abandoned) {
                    result.complete(value);
                    return;
                }
            }
            closeQuietly(value);
        }

        /** Gives up unless it already finished; then nothing it opens will reach the caller. */
        synchronized boolean abandon(Future<?> running) {
            if (result.isDone()) {
                return false;
            }
            abandoned = true;
            running.cancel(false);
            return true;
        }

        /** The result of work that finished. */
        T done() throws IOException {
            try {
                return result.getNow(null);
            } catch (java.util.concurrent.CompletionException e) {
                throw rethrown(e.getCause());
            }
        }
    }

    private static IOException rethrown(Throwable cause) {
        if (cause instanceof IOException io) {
            return io;
        }
        if (cause instanceof RuntimeException runtime) {
            throw runtime;
        }
        if (cause instanceof Error error) {
            throw error;
        }
        return new IOException(cause);
    }

    /** Releases the held roots and the opener threads; later use throws {@link IllegalStateException}. */
    @Override
    public void close() {
        cleanable.clean();
    }

    private Held held(Path rootReal) {
        if (resources.closed) {
            throw closed();
        }
        for (Held root : roots) {
            if (rootReal.startsWith(root.real())) {
                return root;
            }
        }
        throw new IllegalArgumentException("not inside a held root");
    }

    private static IllegalStateException closed() {
        return new IllegalStateException("this file access was closed");
    }

    static PolicyViolationException deny(ReasonCode reason, String path, String why) {
        return new PolicyViolationException(Decision.deny(reason, "path '" + path + "' " + why));
    }

    private static void closeQuietly(Closeable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (IOException e) {
            // nothing more can be done for a handle no one uses
        }
    }
}
