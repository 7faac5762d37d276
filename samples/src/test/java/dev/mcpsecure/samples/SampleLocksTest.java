package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

import dev.mcpsecure.core.PolicyLoader;
import dev.mcpsecure.core.SecureMcpServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
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
        return registered(sample, register, UnaryOperator.identity());
    }

    /** The sample's tools registered under its policy, with {@code edit} applied to the policy text. */
    private SecureMcpServer.Builder registered(
            String sample, Consumer<SecureMcpServer.Builder> register, UnaryOperator<String> edit) throws IOException {
        for (String root : new String[] {"project", "scratch", "repo"}) {
            Files.createDirectories(roots.resolve(root));
        }
        Path policy = SamplePolicy.copy(
                roots, sample + ".yaml", text -> edit.apply(text.replace("/tmp/mcp-secure-samples", roots.toString())));
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

    /**
     * The demo and the ITs run the sample API on a free port and move the policy's egress rule
     * there: the samples' tool text must not depend on the shipped port (the HTTP-API sample's
     * description once named http://127.0.0.1:8089/..., a finding at every such start).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void theLintFindsNothingWhenThePolicyMovesTheApisPort(String sample, Consumer<SecureMcpServer.Builder> register)
            throws IOException {
        SecureMcpServer.Builder server =
                registered(sample, register, text -> text.replace("port: 8089", "port: 43201"));

        assertThat(server.lint()).isEmpty();
    }

    /** The assertions above can fail: a sample tool naming a URL its policy's egress refuses is a finding. */
    @Test
    void aUrlTheEgressPolicyRefusesInASampleToolIsAFinding() throws IOException {
        SecureMcpServer.Builder server = registered("http-api", HttpApiServer::register);
        server.tool(SampleTools.tool(
                "fetch_metadata",
                "Fetches http://169.254.169.254/latest/meta-data/ for the caller.",
                List.of(),
                List.of(),
                request -> SampleTools.text("never runs")));

        assertThat(server.lint())
                .singleElement(STRING)
                .contains("tool 'fetch_metadata' description", "URL_NOT_ALLOWED", "169.254.169.254");
    }
}
