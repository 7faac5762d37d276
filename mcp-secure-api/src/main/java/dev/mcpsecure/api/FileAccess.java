package dev.mcpsecure.api;

/** The access a filesystem root grants, or that an operation on a file needs. */
public enum FileAccess {
    /** Read, list and stat. */
    READ_ONLY,
    /** Everything {@link #READ_ONLY} allows, plus create, write and delete. */
    READ_WRITE;

    /** Whether a root granting this access permits an operation needing {@code needed}. */
    public boolean permits(FileAccess needed) {
        return this == READ_WRITE || needed == READ_ONLY;
    }
}
