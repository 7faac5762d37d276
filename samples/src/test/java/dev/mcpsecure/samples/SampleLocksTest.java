package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.core.PolicyLoader;
import dev.mcpsecure.core.SecureMcpServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each sample ships the lockfile of exactly the tools it registers (so a changed tool definition
 * fails here until the lockfile is rewritten and reviewed), and the poisoning lint finds nothing
 * in the samples' own tools.
 */
class SampleLocksTest {

    @TempDir
    Path roots;

    static Stream<Arguments> samples() {
        return Stream.of(
                Arguments.of("filesystem", (Consumer<SecureMcpServer.Builder>) FilesystemServer::register),
                Arguments.of("git", (Consumer<SecureMcpServer.Builder>) GitServer::register),
                Arguments.of("http-api", (Consumer<SecureMcpServer.Builder>) HttpApiServer::register),
                Arguments.of("demo", (Consumer<SecureMcpServer.Builder>) DemoServer::register));
    }

    private SecureMcpServer.Builder registered(String sample, Consumer<SecureMcpServer.Builder> register)
            throws IOException {
        for (String root : new String[] {"project", "scratch", "repo"}) {
            Files.createDirectories(roots.resolve(root));
        }
        Path policy = SamplePolicy.copy(
                roots, sample + ".yaml", text -> text.replace("/tmp/mcp-secure-samples", roots.toString()));
        SecureMcpServer.Builder builder = SecureMcpServer.builder(PolicyLoader.load(policy));
        register.accept(builder);
        return builder;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void theShippedLockfileIsCurrent(String sample, Consumer<SecureMcpServer.Builder> register) throws IOException {
        String shipped = Files.readString(Path.of("policies", sample + ".lock"));

        String current =
                new String(registered(sample, register).lock().toBytes(), java.nio.charset.StandardCharsets.UTF_8);

        assertThat(current)
                .as("samples/policies/%s.lock is stale: run the sample's lock command (README: Tool pinning)", sample)
                .isEqualTo(shipped);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void theLintFindsNothingInTheSamplesOwnTools(String sample, Consumer<SecureMcpServer.Builder> register)
            throws IOException {
        assertThat(registered(sample, register).lint()).isEmpty();
    }
}
