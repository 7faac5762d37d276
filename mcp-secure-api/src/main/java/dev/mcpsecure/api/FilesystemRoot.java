package dev.mcpsecure.api;

import java.nio.file.Path;

/**
 * A directory tools may reach, and how.
 *
 * @param path an absolute, normalized path (no {@code .} or {@code ..} segments), not the
 *     filesystem root itself
 * @param access what the root grants
 */
public record FilesystemRoot(Path path, FileAccess access) {

    /** Validates both components. */
    public FilesystemRoot {
        new Checks()
                .check("path", pathProblem(path))
                .check("access", Checks.notNull(access))
                .throwIfAny();
    }

    /** A read-only root at {@code path}. */
    public static FilesystemRoot readOnly(Path path) {
        return new FilesystemRoot(path, FileAccess.READ_ONLY);
    }

    /** A read-write root at {@code path}. */
    public static FilesystemRoot readWrite(Path path) {
        return new FilesystemRoot(path, FileAccess.READ_WRITE);
    }

    static String pathProblem(Path path) {
        if (path == null) {
            return "is required";
        }
        String text = path.toString();
        if (!path.isAbsolute()) {
            return "root " + Checks.quote(text) + " is relative; write an absolute path such as /srv/data";
        }
        if (!path.normalize().equals(path)) {
            return "root " + Checks.quote(text) + " has '.' or '..' segments; write it as "
                    + Checks.quote(path.normalize().toString());
        }
        if (path.getNameCount() == 0) {
            return "the filesystem root '/' cannot be a root: it would expose the whole machine;"
                    + " name the directories the server needs";
        }
        return null;
    }
}
