package dev.mcpsecure.api;

import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which files tools may reach through {@code SecureFiles}: only paths inside a root, with the
 * root's access, and never a path matching a deny pattern.
 *
 * @param roots the directories tools may reach; none means no file access at all. Paths are
 *     unique.
 * @param base the root relative paths resolve against; empty: relative paths are refused
 * @param deny extra glob patterns (as {@link java.nio.file.FileSystem#getPathMatcher} reads them,
 *     without the {@code glob:} prefix) of files never reachable even inside a root; they add to
 *     {@link #DEFAULT_DENY}, which always applies. A pattern matching a directory covers
 *     everything below it: patterns are matched against a path and each of its parents. Matching
 *     ignores case (both sides are upper-cased and then lower-cased, {@link java.util.Locale#ROOT},
 *     as case-folding filesystems compare names), so {@code **}{@code /.env*} also denies {@code
 *     .ENV} and {@code **}{@code /*.pem} {@code Server.PEM}: on a case-insensitive filesystem they
 *     are the same file.
 * @param maxFileSize largest file read or written, 1 byte to 1 GiB
 * @param allowHardLinks whether regular files with more than one hard link may be read and
 *     written; by default (false) they are refused ({@link ReasonCode#FILE_HARD_LINKED}), since a
 *     hard link inside a root may be the same file as one outside it or one the deny list covers
 */
public record FilesystemPolicy(
        List<FilesystemRoot> roots, Optional<Path> base, List<String> deny, long maxFileSize, boolean allowHardLinks) {

    /**
     * Sensitive files denied inside every root, whatever the policy says, matched ignoring case:
     * credentials and keys ({@code .ssh}, {@code .aws}, {@code .gnupg}, {@code .kube}, the Docker
     * login, {@code .env*}, {@code .netrc}, {@code .git-credentials}, key and keystore files,
     * {@code id_*} SSH keys), and git's configuration and hooks in every repository, submodule and
     * worktree git keeps under {@code .git}, since writing either makes git run a program.
     * {@code .git/info/attributes} is not listed: attributes only select drivers that the config
     * defines, and the tracked {@code .gitattributes} files, which tools edit, have the same power.
     */
    public static final List<String> DEFAULT_DENY = List.of(
            "**/.ssh",
            "**/.aws",
            "**/.gnupg",
            "**/.kube",
            "**/.docker/config.json",
            "**/.env*",
            "**/.netrc",
            "**/.git-credentials",
            "**/.git/{config,config.worktree,hooks}",
            "**/.git/**/{config,config.worktree,hooks}",
            "**/*.pem",
            "**/*.key",
            "**/*.p12",
            "**/*.pfx",
            "**/*.jks",
            "**/*.keystore",
            "**/id_*");

    /** File size cap when the policy sets none: 10 MiB. */
    public static final long DEFAULT_MAX_FILE_SIZE = 10L << 20;

    static final long MAX_FILE_SIZE_CAP = 1L << 30;

    private static final FilesystemPolicy NONE =
            new FilesystemPolicy(List.of(), Optional.empty(), List.of(), DEFAULT_MAX_FILE_SIZE, false);

    /** Validates every component and copies the lists. */
    public FilesystemPolicy {
        Checks checks = new Checks()
                .check("roots", Checks.noNullElements(roots))
                .check("base", base == null ? "is required (use Optional.empty() for none)" : null)
                .check("deny", Checks.noNullElements(deny))
                .check("maxFileSize", Checks.sizeBetween(maxFileSize, 1, MAX_FILE_SIZE_CAP));
        if (Checks.usable(roots)) {
            Map<Object, Integer> seen = new HashMap<>();
            for (int i = 0; i < roots.size(); i++) {
                Integer first = seen.putIfAbsent(roots.get(i).path(), i);
                if (first != null) {
                    checks.check(
                            PolicyProblem.indexPath("roots", i) + ".path",
                            "root " + Checks.quote(roots.get(i).path().toString()) + " is listed twice (first as roots["
                                    + first + "]); keep one entry with the access it needs");
                }
            }
        }
        if (Checks.usable(roots)
                && base != null
                && base.isPresent()
                && roots.stream().noneMatch(root -> root.path().equals(base.get()))) {
            checks.check(
                    "base",
                    "base " + Checks.quote(base.get().toString())
                            + " is not one of the roots; set it to the root relative paths should resolve against");
        }
        if (Checks.usable(deny)) {
            for (int i = 0; i < deny.size(); i++) {
                checks.check(PolicyProblem.indexPath("deny", i), globProblem(deny.get(i)));
            }
        }
        checks.throwIfAny();
        roots = List.copyOf(roots);
        deny = List.copyOf(deny);
    }

    /** No roots: no file is reachable. */
    public static FilesystemPolicy none() {
        return NONE;
    }

    /** A builder; every option not set takes its default. */
    public static Builder builder() {
        return new Builder();
    }

    /** {@link #DEFAULT_DENY} followed by this policy's own {@link #deny} patterns. */
    public List<String> effectiveDeny() {
        List<String> all = new ArrayList<>(DEFAULT_DENY);
        all.addAll(deny);
        return List.copyOf(all);
    }

    static String globProblem(String glob) {
        if (glob.isBlank()) {
            return "a deny pattern must not be empty";
        }
        if (glob.indexOf('\0') >= 0) {
            return "a deny pattern must not contain NUL";
        }
        try {
            FileSystems.getDefault().getPathMatcher("glob:" + glob);
            return null;
        } catch (IllegalArgumentException e) {
            return "deny pattern " + Checks.quote(glob) + " is not a valid glob (" + e.getMessage()
                    + "); use *, ?, ** and [abc] as in '**/*.pem'";
        }
    }

    /** Builds a {@link FilesystemPolicy}. Not thread-safe. */
    public static final class Builder {
        private final List<FilesystemRoot> roots = new ArrayList<>();
        private final List<String> deny = new ArrayList<>();
        private Path base;
        private Long maxFileSize;
        private Boolean allowHardLinks;

        private Builder() {}

        /** Adds a root. */
        public Builder root(FilesystemRoot root) {
            Checks.require("roots", Checks.notNull(root));
            roots.add(root);
            return this;
        }

        /** Resolves relative paths against {@code base}, which must be one of the roots. */
        public Builder base(Path base) {
            Checks.requireUnset(this.base, "base");
            Checks.require("base", Checks.notNull(base));
            this.base = base;
            return this;
        }

        /** Adds a deny glob pattern. */
        public Builder deny(String glob) {
            Checks.require("deny", glob == null ? "is required" : globProblem(glob));
            deny.add(glob);
            return this;
        }

        /** Largest file read or written, 1 byte to 1 GiB; default {@link #DEFAULT_MAX_FILE_SIZE}. */
        public Builder maxFileSize(long bytes) {
            Checks.requireUnset(maxFileSize, "maxFileSize");
            Checks.require("maxFileSize", Checks.sizeBetween(bytes, 1, MAX_FILE_SIZE_CAP));
            maxFileSize = bytes;
            return this;
        }

        /**
         * Whether regular files with more than one hard link may be read and written; default
         * false (refused with {@link ReasonCode#FILE_HARD_LINKED}).
         */
        public Builder allowHardLinks(boolean allow) {
            Checks.requireUnset(allowHardLinks, "allowHardLinks");
            allowHardLinks = allow;
            return this;
        }

        /** @throws InvalidPolicyException if a root is listed twice or the base is not a root */
        public FilesystemPolicy build() {
            return new FilesystemPolicy(
                    roots,
                    Optional.ofNullable(base),
                    deny,
                    maxFileSize == null ? DEFAULT_MAX_FILE_SIZE : maxFileSize,
                    allowHardLinks != null && allowHardLinks);
        }
    }
}
