package dev.mcpsecure.samples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.function.UnaryOperator;

/** A sample's policy copied into a test's folder with edits, its lockfile beside it as the policy names it. */
final class SamplePolicy {

    private SamplePolicy() {}

    /** Writes {@code policies/<name>} edited by {@code edit} to {@code dir}, with its lockfile; returns the copy. */
    static Path copy(Path dir, String name, UnaryOperator<String> edit) throws IOException {
        Path policy = dir.resolve(name);
        Files.writeString(policy, edit.apply(Files.readString(Path.of("policies", name))));
        String lockfile = name.replaceFirst("\\.yaml$", ".lock");
        Files.copy(Path.of("policies", lockfile), dir.resolve(lockfile), StandardCopyOption.REPLACE_EXISTING);
        return policy;
    }
}
