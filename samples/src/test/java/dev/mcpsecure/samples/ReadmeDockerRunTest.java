package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.core.ContainerProfile;
import dev.mcpsecure.core.PolicyLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The README's {@code docker run} line for each sample image is what its policy's profile gives. */
class ReadmeDockerRunTest {

    @Test
    void eachSamplesDockerRunLineInTheReadmeIsItsContainerProfile() throws IOException {
        List<String> readme = Files.readAllLines(Path.of("..", "README.md"));

        for (ImageBuild.Server server : ImageBuild.SERVERS) {
            String image = " -i mcp-secure/" + server.name() + ":";
            List<String> lines = readme.stream()
                    .filter(line -> line.startsWith("docker run ") && line.contains(image))
                    .toList();
            String flags = String.join(
                    " ", ContainerProfile.dockerRunFlags(PolicyLoader.load(Path.of("policies", server.policy()))));

            assertThat(lines).as("README lines running %s", server.name()).hasSize(1);
            assertThat(lines.get(0).substring(0, lines.get(0).lastIndexOf(' ')))
                    .as("README's docker run line for %s", server.name())
                    .isEqualTo("docker run " + flags);
        }
    }
}
