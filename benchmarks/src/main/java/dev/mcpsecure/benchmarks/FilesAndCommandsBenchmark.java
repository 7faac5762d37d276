package dev.mcpsecure.benchmarks;

import dev.mcpsecure.api.FilesystemPolicy;
import dev.mcpsecure.api.FilesystemRoot;
import dev.mcpsecure.api.ProgramPolicy;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.core.SecureExec;
import dev.mcpsecure.core.SecureFiles;
import dev.mcpsecure.core.internal.exec.PolicyCommandGuard;
import dev.mcpsecure.core.internal.files.PolicyFilesystemGuard;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * B2: reading a 4 KiB file five directories deep through SecureFiles against Files.readAllBytes.
 * B3: the command guard's decision alone, and SecureExec against ProcessBuilder running
 * {@code true}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class FilesAndCommandsBenchmark {

    private Path root;
    private Path file;
    private String requested;
    private SecureFiles files;
    private SecureExec exec;
    private PolicyCommandGuard commands;

    @Setup(Level.Trial)
    public void prepare() throws IOException {
        root = Files.createTempDirectory("mcp-secure-bench").toRealPath();
        Path deep = Files.createDirectories(root.resolve("a/b/c/d/e"));
        file = Files.write(deep.resolve("data.bin"), new byte[4096]);
        requested = file.toString();
        SecurityPolicy policy = SecurityPolicy.builder()
                .filesystem(FilesystemPolicy.builder()
                        .root(FilesystemRoot.readOnly(root))
                        .base(root)
                        .build())
                .program("true", ProgramPolicy.builder(Path.of("/usr/bin/true")).build())
                .build();
        files = SecureFiles.of(policy.filesystem());
        exec = SecureExec.of(policy);
        commands = new PolicyCommandGuard(
                policy.commands(), new PolicyFilesystemGuard(policy.filesystem()), Optional.of(root), Map.of());
    }

    @TearDown(Level.Trial)
    public void clean() throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    @Benchmark
    public byte[] plainRead() throws IOException {
        return Files.readAllBytes(file);
    }

    @Benchmark
    public byte[] secureFilesRead() throws IOException {
        return files.readBytes(requested);
    }

    @Benchmark
    public Object secureFilesCheckOnly() {
        return files.guard().resolve(requested, dev.mcpsecure.api.FileAccess.READ_ONLY);
    }

    @Benchmark
    @BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Object commandDecisionOnly() {
        return commands.authorize("true", List.of(), Map.of(), null);
    }

    @Benchmark
    public int plainProcessBuilder() throws Exception {
        Process process =
                new ProcessBuilder("/usr/bin/true").directory(root.toFile()).start();
        process.getOutputStream().close();
        process.getInputStream().readAllBytes();
        process.getErrorStream().readAllBytes();
        return process.waitFor();
    }

    @Benchmark
    public int secureExec() throws IOException {
        return exec.run("true", List.of()).exitCode();
    }
}
