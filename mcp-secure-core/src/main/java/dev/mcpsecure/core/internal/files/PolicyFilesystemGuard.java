package dev.mcpsecure.core.internal.files;

import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.FileAccess;
import dev.mcpsecure.api.FilesystemGuard;
import dev.mcpsecure.api.FilesystemPolicy;
import dev.mcpsecure.api.FilesystemRoot;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The {@link FilesystemGuard} a {@link FilesystemPolicy} defines.
 *
 * <p>A requested path is checked as written (no control characters, no {@code ~} expansion,
 * relative only against the base root, normalized), then resolved through every symbolic link on
 * the real filesystem, and both the written and the real path must lie in a root, compared by path
 * components, never by string prefix. For a path being created, the deepest existing parent is
 * resolved; a dangling symbolic link is never followed. The access needed must be granted by the
 * roots of both. Deny patterns are matched against the path and each of its parents, written and
 * real, ignoring case. Denial messages quote the path as the client sent it, never a resolved path.
 *
 * <p>Thread-safe. Roots must exist when the guard is made; their real paths are fixed then.
 */
public final class PolicyFilesystemGuard implements FilesystemGuard {

    /** The longest path accepted, in characters. */
    public static final int MAX_PATH_LENGTH = 4096;

    /**
     * Most name elements a path may have once resolved against the base: deny patterns are matched
     * against the path and each of its parents, so the work grows with the square of the depth (a
     * 2,000-level path took 66 ms a check before this cap; the fuzzer found it).
     */
    public static final int MAX_PATH_DEPTH = 128;

    private final List<Root> roots;
    private final Optional<Path> base;
    private final DenyList deny;

    /** A root as written in the policy and as it really is on disk. */
    record Root(Path written, Path real, FileAccess access) {}

    /** Where a checked path really leads, and the root it is in. */
    public record Resolution(Path real, Path rootReal, FileAccess access) {}

    /**
     * @throws IllegalArgumentException naming a root that does not exist or is not a directory
     */
    public PolicyFilesystemGuard(FilesystemPolicy policy) {
        this(realRoots(policy.roots()), policy.base(), new DenyList(policy.effectiveDeny()));
    }

    private PolicyFilesystemGuard(List<Root> roots, Optional<Path> base, DenyList deny) {
        List<Root> sorted = new ArrayList<>(roots);
        sorted.sort(Comparator.comparingInt((Root root) -> root.real().getNameCount())
                .reversed());
        this.roots = List.copyOf(sorted);
        this.base = base;
        this.deny = deny;
    }

    /**
     * This guard narrowed to the client's declared roots (MCP {@code roots/list}): each policy
     * root is kept where it lies inside a client root, or replaced by a client root inside it,
     * with the policy root's access. Never widens; client roots that do not exist are ignored.
     */
    public PolicyFilesystemGuard narrowedTo(Collection<Path> clientRoots) {
        List<Root> narrowed = new ArrayList<>();
        for (Path clientRoot : clientRoots) {
            Path real;
            try {
                real = clientRoot.toRealPath();
            } catch (IOException | RuntimeException e) {
                continue;
            }
            for (Root root : roots) {
                if (root.real().startsWith(real)) {
                    narrowed.add(root);
                } else if (real.startsWith(root.real())) {
                    narrowed.add(new Root(real, real, root.access()));
                }
            }
        }
        Optional<Path> narrowedBase = base.filter(
                b -> narrowed.stream().anyMatch(root -> root.written().equals(b)));
        return new PolicyFilesystemGuard(narrowed.stream().distinct().toList(), narrowedBase, deny);
    }

    @Override
    public Path resolve(String requested, FileAccess access) {
        return resolution(requested, access).real();
    }

    /**
     * Checks {@code requested} for an operation needing {@code access} and says where it leads.
     *
     * @throws PolicyViolationException as {@link FilesystemGuard#resolve} describes
     */
    public Resolution resolution(String requested, FileAccess access) {
        return resolution(requested, access, true);
    }

    /**
     * As {@link #resolution(String, FileAccess)}, but a symbolic link as the last component is
     * the thing itself, not followed: for deleting or describing a link.
     */
    public Resolution linkResolution(String requested, FileAccess access) {
        return resolution(requested, access, false);
    }

    private Resolution resolution(String requested, FileAccess access, boolean followLast) {
        Path written = written(requested);
        Root writtenRoot = rootOf(written, false);
        if (writtenRoot == null) {
            throw deny(ReasonCode.PATH_OUTSIDE_ROOTS, requested, "is outside the allowed roots");
        }
        checkNotSensitive(written, writtenRoot.written(), requested);
        boolean linkItself = !followLast && Files.isSymbolicLink(written) && written.getParent() != null;
        Path real = linkItself
                ? realPath(written.getParent(), requested).resolve(written.getFileName())
                : realPath(written, requested);
        Root realRoot = rootOf(real, true);
        if (realRoot == null) {
            throw deny(
                    ReasonCode.PATH_SYMLINK_ESCAPE,
                    requested,
                    "leads through a symbolic link outside the allowed roots");
        }
        if (!real.equals(written)) {
            checkNotSensitive(real, realRoot.real(), requested);
        }
        if (!writtenRoot.access().permits(access) || !realRoot.access().permits(access)) {
            throw deny(ReasonCode.PATH_READ_ONLY, requested, "is in a read-only root");
        }
        return new Resolution(real, realRoot.real(), realRoot.access());
    }

    /** The real paths of this guard's roots, innermost first. */
    public List<Path> realRoots() {
        return roots.stream().map(Root::real).toList();
    }

    /**
     * The real path of the innermost root {@code requested} is written in, before any link in it
     * is resolved; empty when it is written in none. Checks the path's form only.
     *
     * @throws PolicyViolationException with {@link ReasonCode#PATH_INVALID} as {@link #resolution}
     *     would
     */
    public Optional<Path> writtenRoot(String requested) {
        return Optional.ofNullable(rootOf(written(requested), false)).map(Root::real);
    }

    /** Whether {@code real}, a real path, lies inside a root and matches no deny pattern. */
    public boolean allowsReal(Path real) {
        Root root = rootOf(real, true);
        return root != null && !sensitive(real, root.real());
    }

    private Path written(String requested) {
        if (requested == null || requested.isEmpty()) {
            throw deny(ReasonCode.PATH_INVALID, "", "is empty");
        }
        if (requested.length() > MAX_PATH_LENGTH) {
            throw deny(
                    ReasonCode.PATH_INVALID,
                    requested.substring(0, 64) + "...",
                    "is longer than " + MAX_PATH_LENGTH + " characters");
        }
        for (int i = 0; i < requested.length(); i++) {
            char c = requested.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw deny(ReasonCode.PATH_INVALID, requested, "contains a control character");
            }
        }
        Path path;
        try {
            path = Path.of(requested);
        } catch (InvalidPathException e) {
            throw deny(ReasonCode.PATH_INVALID, requested, "is not a valid path");
        }
        if (!path.isAbsolute()) {
            if (base.isEmpty()) {
                throw deny(ReasonCode.PATH_INVALID, requested, "is relative; give an absolute path inside a root");
            }
            path = base.get().resolve(path);
        }
        Path normalized = path.normalize();
        if (normalized.getNameCount() > MAX_PATH_DEPTH) {
            throw deny(
                    ReasonCode.PATH_INVALID,
                    requested.length() > 64 ? requested.substring(0, 64) + "..." : requested,
                    "has more than " + MAX_PATH_DEPTH + " levels");
        }
        return normalized;
    }

    private Path realPath(Path written, String requested) {
        try {
            if (Files.exists(written, LinkOption.NOFOLLOW_LINKS)) {
                return written.toRealPath();
            }
        } catch (NoSuchFileException e) {
            // a dangling symbolic link somewhere on the way: handled below, never followed
        } catch (IOException e) {
            throw deny(ReasonCode.PATH_INVALID, requested, "cannot be resolved");
        }
        if (Files.isSymbolicLink(written)) {
            throw deny(
                    ReasonCode.PATH_SYMLINK_ESCAPE, requested, "is a symbolic link to nothing; it is never followed");
        }
        Path existing = deepestExisting(written);
        if (existing == null) {
            throw deny(ReasonCode.PATH_OUTSIDE_ROOTS, requested, "is outside the allowed roots");
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(written)).normalize();
        } catch (NoSuchFileException e) {
            throw deny(ReasonCode.PATH_SYMLINK_ESCAPE, requested, "leads through a symbolic link to nothing");
        } catch (IOException e) {
            throw deny(ReasonCode.PATH_INVALID, requested, "cannot be resolved");
        }
    }

    /**
     * The longest prefix of {@code written} (absolute, normalized, not existing itself) that
     * exists, found from the top down: a deep path under a missing directory costs one look-up
     * per existing level, not one per written level (a 2,000-level path took 66 ms bottom-up,
     * found by the fuzzer). {@code null} when not even the first level exists under the root.
     */
    private static Path deepestExisting(Path written) {
        Path existing = written.getRoot();
        if (existing == null) {
            return null;
        }
        for (Path name : written) {
            Path next = existing.resolve(name);
            if (next.equals(written) || !Files.exists(next, LinkOption.NOFOLLOW_LINKS)) {
                break;
            }
            existing = next;
        }
        return existing;
    }

    /** The innermost root containing {@code path}, by its written or its real form. */
    private Root rootOf(Path path, boolean real) {
        for (Root root : roots) {
            if (path.startsWith(real ? root.real() : root.written())) {
                return root;
            }
        }
        if (!real) {
            for (Root root : roots) {
                if (path.startsWith(root.real())) {
                    return root;
                }
            }
        }
        return null;
    }

    private void checkNotSensitive(Path path, Path root, String requested) {
        if (sensitive(path, root)) {
            throw deny(ReasonCode.PATH_SENSITIVE, requested, "is a sensitive file (credentials or keys)");
        }
    }

    private boolean sensitive(Path path, Path root) {
        return deny.matches(path, root);
    }

    private static PolicyViolationException deny(ReasonCode reason, String requested, String why) {
        return new PolicyViolationException(Decision.deny(reason, "path '" + requested + "' " + why));
    }

    private static List<Root> realRoots(List<FilesystemRoot> roots) {
        List<Root> result = new ArrayList<>();
        for (FilesystemRoot root : roots) {
            if (!Files.isDirectory(root.path())) {
                throw new IllegalArgumentException("filesystem root " + root.path()
                        + " does not exist or is not a directory; create it or remove it from the policy");
            }
            try {
                result.add(new Root(root.path(), root.path().toRealPath(), root.access()));
            } catch (IOException e) {
                throw new IllegalArgumentException(
                        "filesystem root " + root.path() + " cannot be resolved: " + e.getMessage(), e);
            }
        }
        return result;
    }

    /**
     * Deny patterns, matched against a path and each of its parents below the root, ignoring case:
     * patterns and paths are both compared folded, that is upper-cased and then lower-cased
     * ({@link Locale#ROOT}), which also equates what case-folding filesystems equate beyond ASCII
     * ({@code ſ} and {@code s}, the ligature {@code ﬁ} and {@code fi}). A pattern
     * {@code **}{@code /NAME} without a further {@code /} concerns one name and is matched against
     * each component's name (a literal name by string comparison); any other pattern against the
     * whole path of the file and of each parent.
     */
    private static final class DenyList {
        private final Set<String> names = new HashSet<>();
        private final List<PathMatcher> nameGlobs = new ArrayList<>();
        private final List<PathMatcher> pathGlobs = new ArrayList<>();

        DenyList(List<String> patterns) {
            for (String pattern : patterns) {
                String glob = fold(pattern);
                String name = glob.startsWith("**/") ? glob.substring(3) : null;
                if (name != null && !name.contains("/") && !name.contains("**")) {
                    if (name.chars().noneMatch(c -> "*?[]{}\\".indexOf(c) >= 0)) {
                        names.add(name);
                    } else {
                        nameGlobs.add(FileSystems.getDefault().getPathMatcher("glob:" + name));
                    }
                } else {
                    pathGlobs.add(FileSystems.getDefault().getPathMatcher("glob:" + glob));
                }
            }
        }

        boolean matches(Path path, Path root) {
            for (Path name : root.relativize(path)) {
                String folded = fold(name.toString());
                if (names.contains(folded)) {
                    return true;
                }
                for (PathMatcher glob : nameGlobs) {
                    if (glob.matches(Path.of(folded))) {
                        return true;
                    }
                }
            }
            if (!pathGlobs.isEmpty()) {
                for (Path p = path; p != null && p.startsWith(root); p = p.getParent()) {
                    Path folded = Path.of(fold(p.toString()));
                    for (PathMatcher glob : pathGlobs) {
                        if (glob.matches(folded)) {
                            return true;
                        }
                    }
                }
            }
            return false;
        }

        private static String fold(String text) {
            return text.toUpperCase(Locale.ROOT).toLowerCase(Locale.ROOT);
        }
    }
}
