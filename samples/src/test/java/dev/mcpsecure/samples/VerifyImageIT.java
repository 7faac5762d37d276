package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.core.ImageCheck;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each sample server, as a real process, runs {@code <server> verify-image} on the image the build
 * made of it (ImageBuild): it passes; the deliberately bad image (root user, a shell and busybox
 * added) fails with one line for each of those problems and nothing else.
 */
class VerifyImageIT {

    private static final Path IMAGES = Path.of("target", "images");

    record Run(int code, String out, String err) {}

    static Stream<Arguments> servers() {
        return ImageBuild.SERVERS.stream()
                .map(server -> Arguments.of(server.name(), server.mainClass(), server.policy()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void eachSampleServerVerifiesItsOwnImage(String name, String mainClass, String policy) throws Exception {
        Run run = verify(mainClass, IMAGES.resolve(name + ".tar"), Path.of("policies", policy));

        assertThat(run.code()).as(run.err()).isEqualTo(ImageCheck.EXIT_OK);
        assertThat(run.out()).startsWith("image ok: ");
        assertThat(run.err()).isEmpty();
    }

    @Test
    void aRootImageWithAShellFailsNamingEachProblem() throws Exception {
        ImageBuild.Server demo = ImageBuild.SERVERS.stream()
                .filter(server -> server.name().equals(ImageBuild.BAD_FROM))
                .findFirst()
                .orElseThrow();

        Run run = verify(demo.mainClass(), IMAGES.resolve(ImageBuild.BAD), Path.of("policies", demo.policy()));

        assertThat(run.code()).isEqualTo(ImageCheck.EXIT_REJECTED);
        assertThat(run.out()).isEmpty();
        List<String> lines = run.err().lines().toList();
        assertThat(lines).hasSize(3);
        assertThat(lines).anySatisfy(line -> assertThat(line).contains("root", "65532:65532"));
        assertThat(lines).anySatisfy(line -> assertThat(line).contains("/usr/bin/sh"));
        assertThat(lines).anySatisfy(line -> assertThat(line).contains("/usr/bin/busybox"));
        assertThat(run.err()).doesNotContain("Exception", "\tat ");
    }

    private static Run verify(String mainClass, Path image, Path policy) throws IOException, InterruptedException {
        assertThat(image).as("built by ImageBuild in pre-integration-test").isRegularFile();
        Path out = Files.createTempFile("verify-image", ".out");
        Path err = Files.createTempFile("verify-image", ".err");
        try {
            Process process = new ProcessBuilder(PythonDriver.command(
                            mainClass, "verify-image", image.toString(), "--policy", policy.toString()))
                    .redirectInput(
                            ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("verify-image did not finish in 60 s");
            }
            return new Run(process.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
