package dev.mcpsecure.api;

import java.nio.file.Path;

/**
 * Decides which files tools may reach, and where a requested path really leads.
 *
 * <p>Implementations are thread-safe. A path is resolved component by component against the real
 * filesystem, following symbolic links, and compared with the roots by path components, never by
 * string prefix.
 */
public interface FilesystemGuard {

    /**
     * Resolves {@code requested} for an operation needing {@code access}.
     *
     * @param requested the path as the client sent it; relative paths resolve against the base root
     * @return the real path to operate on, inside a root that grants {@code access}
     * @throws PolicyViolationException with {@link ReasonCode#PATH_INVALID},
     *     {@link ReasonCode#PATH_OUTSIDE_ROOTS}, {@link ReasonCode#PATH_SYMLINK_ESCAPE},
     *     {@link ReasonCode#PATH_READ_ONLY} or {@link ReasonCode#PATH_SENSITIVE}; its message shows
     *     {@code requested}, never a resolved host path outside the roots
     */
    Path resolve(String requested, FileAccess access);
}
