package dev.mcpsecure.core.internal.exec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One git run's stand-in for the common directory of the repository around its working
 * directory, handed to git as {@code GIT_COMMON_DIR}, which git reads its repository
 * configuration, hooks, {@code info/attributes} and remotes from. It holds a configuration of its
 * own, made of the repository's {@link GitProfile#copied(String, String) copied} entries only, and links to the
 * repository's objects, refs, packed refs, shallow list, reflogs and linked working trees, so git
 * reads and writes history as usual. It holds no hooks, no attributes and no remotes files.
 *
 * <p>git finds the repository (and its per-working-tree files: {@code HEAD}, the index, an
 * operation in progress) itself; the shadow only decides the configuration. When no repository is
 * found here, the shadow has no {@code objects} or {@code refs}, so git accepts no repository it
 * might find instead (one made in between, say) and runs as outside any repository.
 *
 * <p>Closing deletes the directory (as far as it can: a failure leaves a private directory behind,
 * it does not fail the run), never what its links point to. Not thread-safe; one per run.
 */
public final class GitShadow implements AutoCloseable {

    /**
     * Reads a configuration file as git does.
     */
    @FunctionalInterface
    public interface ConfigReader {
        /**
         * The output of {@code git config --file <file> --no-includes --list -z}, run in {@code
         * workDir}; empty when git could not read the file in time.
         */
        Optional<String> list(Path file, Path workDir);
    }

    /** Entries of a common directory linked into the shadow, whether or not they exist yet. */
    private static final List<String> LINKED =
            List.of("objects", "refs", "packed-refs", "shallow", "logs", "worktrees");

    private static final int MAX_GITFILE_BYTES = 4096;
    private static final String MINIMAL_CONFIG = "[core]\n\trepositoryformatversion = 0\n";

    private final Path dir;
    private final Optional<Path> repository;

    private GitShadow(Path dir, Optional<Path> repository) {
        this.dir = dir;
        this.repository = repository;
    }

    /**
     * Makes the shadow for a run in {@code cwd} (a real path), in a new private directory under
     * {@code parent}.
     *
     * @throws IOException when the directory cannot be made; the run must not go ahead
     */
    public static GitShadow open(Path cwd, Path parent, ConfigReader reader) throws IOException {
        Path dir = Files.createTempDirectory(parent, "mcp-secure-git-");
        GitShadow shadow = new GitShadow(dir, commonDir(cwd));
        try {
            String config = MINIMAL_CONFIG;
            if (shadow.repository.isPresent()) {
                Path common = shadow.repository.get();
                Optional<String> listed = reader.list(common.resolve("config"), dir);
                config = listed.map(GitShadow::copiedConfig).orElse(MINIMAL_CONFIG);
                for (String entry : LINKED) {
                    Files.createSymbolicLink(dir.resolve(entry), common.resolve(entry));
                }
                Path info = Files.createDirectory(dir.resolve("info"));
                Files.createSymbolicLink(
                        info.resolve("exclude"), common.resolve("info").resolve("exclude"));
            }
            Files.writeString(dir.resolve("config"), config);
            return shadow;
        } catch (IOException | RuntimeException e) {
            shadow.close();
            throw e;
        }
    }

    /** The variables that make git use this shadow. */
    public Map<String, String> environment() {
        return Map.of("GIT_COMMON_DIR", dir.toString());
    }

    /** The common directory of the repository found, if any. */
    public Optional<Path> repository() {
        return repository;
    }

    /**
     * The common directory of the repository whose {@code .git} (directory, or file naming one)
     * is nearest above {@code cwd}: that directory, or the one its {@code commondir} file names
     * (a linked working tree's). Empty when there is none or it cannot be read.
     */
    static Optional<Path> commonDir(Path cwd) {
        try {
            for (Path dir = cwd; dir != null; dir = dir.getParent()) {
                Path dotGit = dir.resolve(".git");
                if (Files.isDirectory(dotGit)) {
                    return Optional.of(common(dotGit.toRealPath()));
                }
                if (Files.isRegularFile(dotGit)) {
                    String text = head(dotGit);
                    if (!text.startsWith("gitdir:")) {
                        return Optional.empty();
                    }
                    Path gitDir = dir.resolve(text.substring("gitdir:".length()).strip());
                    return Files.isDirectory(gitDir) ? Optional.of(common(gitDir.toRealPath())) : Optional.empty();
                }
                if (Files.exists(dotGit)) {
                    return Optional.empty();
                }
            }
        } catch (IOException | RuntimeException e) {
            // unreadable: git gets a shadow without a repository, so it uses none
        }
        return Optional.empty();
    }

    private static Path common(Path gitDir) throws IOException {
        Path file = gitDir.resolve("commondir");
        if (!Files.isRegularFile(file)) {
            return gitDir;
        }
        Path common = gitDir.resolve(head(file).strip());
        return Files.isDirectory(common) ? common.toRealPath() : gitDir;
    }

    /** The first line of a small file. */
    private static String head(Path file) throws IOException {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_GITFILE_BYTES);
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        int newline = text.indexOf('\n');
        return newline < 0 ? text : text.substring(0, newline);
    }

    /**
     * The configuration file holding only the {@link GitProfile#copied(String, String) copied}
     * entries of {@code listing} ({@code key\nvalue} records separated by NUL, as {@code git
     * config --list -z} prints them), in their order.
     */
    static String copiedConfig(String listing) {
        Map<String, StringBuilder> sections = new LinkedHashMap<>();
        for (String record : listing.split("\0")) {
            int newline = record.indexOf('\n');
            String key = newline < 0 ? record : record.substring(0, newline);
            String value = newline < 0 ? null : record.substring(newline + 1);
            if (record.isEmpty() || !GitProfile.copied(key, value)) {
                continue;
            }
            int first = key.indexOf('.');
            int last = key.lastIndexOf('.');
            String section = key.substring(0, first);
            String header = first == last
                    ? "[" + section + "]"
                    : "[" + section + " " + quoted(key.substring(first + 1, last)) + "]";
            String name = key.substring(last + 1);
            String entry = value == null ? name : name + " = " + quoted(value);
            sections.computeIfAbsent(header, h -> new StringBuilder())
                    .append('\t')
                    .append(entry)
                    .append('\n');
        }
        StringBuilder config = new StringBuilder();
        sections.forEach((header, entries) -> config.append(header).append('\n').append(entries));
        return config.length() == 0 ? MINIMAL_CONFIG : config.toString();
    }

    /** {@code text} in double quotes with git's escapes; a control character other than tab becomes '?'. */
    private static String quoted(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '"' -> out.append("\\\"");
                case '\t' -> out.append("\\t");
                default -> out.append(Character.isISOControl(c) ? '?' : c);
            }
        }
        return out.append('"').toString();
    }

    /** Deletes the shadow and what git wrote into it, never following a link; best effort. */
    @Override
    public void close() {
        try {
            delete(dir);
        } catch (IOException e) {
            // a private directory is left behind; the run itself is unaffected
        }
    }

    private static void delete(Path dir) throws IOException {
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path directory, IOException failure) throws IOException {
                Files.delete(directory);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
