package dev.mcpsecure.api;

import java.nio.file.Path;

/**
 * A built-in hardening for a program whose own configuration files can make it run other
 * programs, so that neither the tool nor a file the tool can write chooses what runs. A profile
 * adds fixed arguments and environment of its own (placed after the policy's, so they win), may
 * refuse policies that would undo it, and may prepare each run.
 *
 * <p>A program whose policy names no profile gets {@link #defaultFor} its path; {@code
 * SecureExec} also looks at the real file behind a symbolic link.
 */
public enum ProgramProfile {

    /** No profile: the program runs with the policy's fixed arguments and environment only. */
    NONE,

    /**
     * git, with no configuration, hook or driver from the repository, the user or the system:
     * global and system configuration and attributes are off, the repository's configuration is
     * replaced for each run by a copy that keeps only keys that run nothing, only http(s)
     * transports are allowed, and prompts, pagers and editors are disabled. Subcommands and
     * options that run commands by design are refused. See {@code docs/policy.md}, "The git
     * profile", for the full list and its limits.
     */
    GIT;

    /** The profile of a program whose policy names none: {@link #GIT} for a file named {@code git}, else {@link #NONE}. */
    public static ProgramProfile defaultFor(Path program) {
        Path name = program.getFileName();
        return name != null && name.toString().equals("git") ? GIT : NONE;
    }
}
