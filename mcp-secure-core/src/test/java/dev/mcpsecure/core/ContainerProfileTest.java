package dev.mcpsecure.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mcpsecure.api.SecurityPolicy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

class ContainerProfileTest {

    private static final Path GOLDEN = Path.of("src/test/resources/container-profile/policy-example.txt");

    @Test
    void theExamplePolicysProfileMatchesTheReviewedGoldenFile() throws IOException {
        String generated = ContainerProfile.generate(PolicyLoader.load(PolicyLoaderTest.EXAMPLE));

        assertThat(generated)
                .as("regenerate %s with ContainerProfile if the change is intended, and review the diff", GOLDEN)
                .isEqualTo(Files.readString(GOLDEN));
    }

    @Test
    void theKubernetesPartParsesIntoAHardenedPodAndAnEgressPolicy() throws IOException {
        String kubernetes = ContainerProfile.kubernetes(PolicyLoader.load(PolicyLoaderTest.EXAMPLE));

        List<JsonNode> documents = YAMLMapper.builder()
                .build()
                .readValues(YAMLMapper.builder().build().createParser(kubernetes), JsonNode.class)
                .readAll();

        assertThat(documents).hasSize(2);
        JsonNode pod = documents.get(0);
        assertThat(pod.get("kind").asString()).isEqualTo("Pod");
        assertThat(pod.at("/spec/securityContext/runAsNonRoot").asBoolean()).isTrue();
        assertThat(pod.at("/spec/securityContext/seccompProfile/type").asString())
                .isEqualTo("RuntimeDefault");
        JsonNode container = pod.at("/spec/containers/0/securityContext");
        assertThat(container.get("allowPrivilegeEscalation").asBoolean()).isFalse();
        assertThat(container.get("readOnlyRootFilesystem").asBoolean()).isTrue();
        assertThat(container.at("/capabilities/drop/0").asString()).isEqualTo("ALL");
        assertThat(pod.at("/spec/containers/0/volumeMounts/1/readOnly").asBoolean())
                .as("/srv/project is read-only")
                .isTrue();
        assertThat(pod.at("/spec/containers/0/volumeMounts/2/readOnly").asBoolean())
                .as("/srv/notes is read-write")
                .isFalse();
        JsonNode network = documents.get(1);
        assertThat(network.get("kind").asString()).isEqualTo("NetworkPolicy");
        assertThat(network.at("/spec/egress/0/to/0/ipBlock/cidr").asString()).isEqualTo("127.0.0.1/32");
        assertThat(network.at("/spec/egress/0/ports/0/port").asInt()).isEqualTo(8200);
    }

    @Test
    void aPolicyWithoutEgressGetsNoNetworkAtAll() {
        SecurityPolicy policy = SecurityPolicy.denyAll();

        assertThat(ContainerProfile.dockerRunFlags(policy)).contains("--network none", "--cap-drop ALL", "--read-only");
        assertThat(ContainerProfile.kubernetes(policy)).contains("  egress: []\n");
    }

    @Test
    void anImageRunsTheMainClassAsTheNonRootUserWithThePolicyBakedInAndTheRunFlagsAsALabel() throws IOException {
        SecurityPolicy policy = PolicyLoader.load(PolicyLoaderTest.EXAMPLE);

        ContainerProfile.Image image = ContainerProfile.image(policy, "com.example.Server");

        assertThat(image.user()).isEqualTo("65532:65532");
        assertThat(image.entrypoint())
                .containsExactly("java", "-cp", "/app/lib/*", "com.example.Server", "--policy", "/app/policy.yaml");
        assertThat(image.labels())
                .containsEntry(ContainerProfile.LABEL_SERVER, "files-and-git")
                .containsEntry(ContainerProfile.LABEL_RUN, String.join(" ", ContainerProfile.dockerRunFlags(policy)));
        assertThat(image.volumes()).containsExactly("/tmp");
        assertThat(ContainerProfile.image(policy, "com.example.Server")).isEqualTo(image);
    }

    @Test
    void theAuditFilesDirectoryIsMountedWritableFromTheHostUnlessAWritableRootHoldsIt() {
        SecurityPolicy audited = PolicyLoader.fromYaml("""
                version: 1
                server: {name: audited}
                filesystem:
                  roots: [{path: /srv/data, access: READ_ONLY}]
                audit: {file: /var/log/mcp/audit.jsonl}
                """, "audited.yaml");
        SecurityPolicy insideRoot = PolicyLoader.fromYaml("""
                version: 1
                server: {name: inside}
                filesystem:
                  roots: [{path: /srv/data, access: READ_WRITE}]
                audit: {file: /srv/data/audit/audit.jsonl}
                """, "inside.yaml");

        assertThat(ContainerProfile.dockerRunFlags(audited))
                .contains("-v /srv/data:/srv/data:ro", "-v /var/log/mcp:/var/log/mcp");
        assertThat(ContainerProfile.kubernetes(audited))
                .contains("- name: audit\n          mountPath: \"/var/log/mcp\"\n")
                .contains("hostPath:\n        path: \"/var/log/mcp\"\n        type: DirectoryOrCreate\n");
        assertThat(ContainerProfile.dockerRunFlags(insideRoot))
                .contains("-v /srv/data:/srv/data")
                .noneMatch(flag -> flag.contains("audit"));
        assertThat(ContainerProfile.kubernetes(insideRoot)).doesNotContain("name: audit");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "audit.jsonl",
                "logs/audit.jsonl",
                "/tmp/audit.jsonl",
                "/audit.jsonl",
                "/etc/mcp/audit.jsonl",
                "/app/audit.jsonl",
                "/usr/local/audit.jsonl",
                "/opt/audit.jsonl"
            })
    void anAuditFileWhereNoMountShouldGoIsNotMountedAndTheProfileSaysWhy(String file) {
        SecurityPolicy policy = PolicyLoader.fromYaml(
                "version: 1\nserver: {name: audited}\naudit: {file: \"" + file + "\"}\n", "audited.yaml");

        assertThat(ContainerProfile.dockerRunFlags(policy)).noneMatch(flag -> flag.startsWith("-v "));
        assertThat(ContainerProfile.kubernetes(policy)).doesNotContain("- name: audit\n");
        assertThat(ContainerProfile.generate(policy))
                .containsPattern("## docker run\n# (audit.file " + Pattern.quote(file)
                        + " is relative|the directory of audit.file " + Pattern.quote(file) + " cannot be mounted)");
    }

    @Test
    void theDockerfileStageBakesInWhatTheImageCheckExpects() {
        SecurityPolicy policy = PolicyLoader.fromYaml(
                "version: 1\nserver: {name: pinned}\npinning: {lockfile: /srv/policy/pinned.lock}\n", "pinned.yaml");

        String dockerfile = ContainerProfile.dockerfile(policy);

        assertThat(dockerfile)
                .contains("COPY --chown=0:0 --chmod=0444 policy.yaml /app/policy.yaml\n")
                .contains("COPY --chown=0:0 --chmod=0444 pinned.lock /app/pinned.lock\n")
                .contains("/app/sbom.cdx.json")
                .contains("dev.mcpsecure.server=\"pinned\"")
                .contains("VOLUME [\"/tmp\"]\nUSER 65532:65532\n");
    }

    @Test
    void anImageRefusesAMainClassThatIsNoClassName() {
        SecurityPolicy policy = SecurityPolicy.denyAll();

        for (String bad : new String[] {"", "a b", "x;rm", "-jar", "Main\u202e", "a..b", "a."}) {
            assertThatThrownBy(() -> ContainerProfile.image(policy, bad))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("is not a Java class name");
        }
        assertThatThrownBy(() -> ContainerProfile.image(policy, null)).hasMessageContaining("main class null");
    }

    @Test
    void theCommandLineReportsBadInputWithDistinctExitCodes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);

        assertThat(ContainerProfile.run(new String[0], o, e)).isEqualTo(64);
        assertThat(ContainerProfile.run(new String[] {"missing.yaml"}, o, e)).isEqualTo(66);
        assertThat(ContainerProfile.run(new String[] {PolicyLoaderTest.EXAMPLE.toString()}, o, e))
                .isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("# mcp-secure container profile for files-and-git");
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("usage: container-profile", "missing.yaml: no such policy file");
    }
}
