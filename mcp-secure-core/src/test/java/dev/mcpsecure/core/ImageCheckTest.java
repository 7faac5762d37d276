package dev.mcpsecure.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.core.ImageTars.Entry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link ImageCheck} on synthetic image tarballs: a good image passes; each bad one fails with
 * one line per problem naming it; hostile tarballs give problem lines, never exceptions.
 */
class ImageCheckTest {

    static final String MAIN = "com.example.Server";
    static final String POLICY =
            "server:\n  name: imaged\ntools:\n  - name: read_file\npinning:\n  lockfile: demo.lock\n";
    static final String LOCK = "{\n  \"server\": \"imaged\"\n}\n";
    static final String SBOM =
            "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"components\":[{\"name\":\"x\"}]}";

    @TempDir
    Path dir;

    private Path policy;
    private Path image;

    @BeforeEach
    void writePolicy() throws IOException {
        policy = dir.resolve("policy.yaml");
        Files.writeString(policy, POLICY);
        Files.writeString(dir.resolve("demo.lock"), LOCK);
        image = dir.resolve("image.tar");
    }

    /** What ContainerProfile.image says, with a base layer and an app layer as a real build makes them. */
    static ImageTars.Image good() throws IOException {
        ContainerProfile.Image expected = ContainerProfile.image(PolicyLoader.fromYaml(POLICY, "test"), MAIN);
        ImageTars.Image image = new ImageTars.Image();
        image.user = expected.user();
        image.entrypoint = expected.entrypoint();
        image.labels.putAll(expected.labels());
        image.labels.put(ImageCheck.LABEL_SOURCE, "https://github.com/example/server");
        image.labels.put(ImageCheck.LABEL_REVISION, "c1d903d");
        image.volumes.addAll(expected.volumes());
        image.layers.add(new ArrayList<>(List.of(
                Entry.dir("etc/"),
                Entry.file(
                        "etc/passwd",
                        "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n"),
                Entry.dir("usr/"),
                Entry.dir("usr/bin/"),
                Entry.symlink("usr/bin/java", "/usr/lib/jvm/java-17/bin/java"),
                Entry.file("usr/lib/jvm/java-17/bin/java", "ELF"))));
        image.layers.add(new ArrayList<>(List.of(
                Entry.dir("app/"),
                Entry.dir("app/lib/"),
                Entry.file("app/lib/server.jar", bytes("PK jar"), 0444, 0),
                Entry.file("app/lib/mcp-secure-core.jar", bytes("PK core"), 0444, 0),
                Entry.file("app/policy.yaml", bytes(POLICY), 0444, 0),
                Entry.file("app/demo.lock", bytes(LOCK), 0444, 0),
                Entry.file("app/sbom.cdx.json", bytes(SBOM), 0444, 0))));
        return image;
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private List<ImageCheck.Finding> check(ImageTars.Image built) throws IOException {
        return ImageCheck.findings(built.writeDockerSave(image), policy, MAIN);
    }

    @Test
    void aGoodImagePasses() throws IOException {
        assertThat(check(good())).isEmpty();
    }

    @Test
    void aGoodImageWithPlainLayersPasses() throws IOException {
        ImageTars.Image built = good();
        built.gzip = false;

        assertThat(check(built)).isEmpty();
    }

    @Test
    void aGoodImageWithLongNamesInPaxHeadersPasses() throws IOException {
        ImageTars.Image built = good();
        appLayer(built).set(2, Entry.file("app/lib/" + "long-".repeat(40) + "server.jar", bytes("PK"), 0444, 0));

        assertThat(check(built)).isEmpty();
    }

    @Test
    void aGoodImageAsAnOciLayoutPasses() throws IOException {
        assertThat(ImageCheck.check(good().writeOciLayout(image), policy, MAIN)).isEmpty();
    }

    @Test
    void anAttestationManifestBesideTheImageIsNoSecondImage() throws IOException {
        ImageTars.Image built = good();
        built.moreIndexEntries.add(Map.of(
                "mediaType",
                "application/vnd.oci.image.manifest.v1+json",
                "digest",
                "sha256:" + "a".repeat(64),
                "size",
                1,
                "annotations",
                Map.of("vnd.docker.reference.type", "attestation-manifest")));

        assertThat(ImageCheck.check(built.writeOciLayout(image), policy, MAIN)).isEmpty();
    }

    @Test
    void anAttestationMarkForARealPlatformIsASecondImage() throws IOException {
        ImageTars.Image built = good();
        built.moreIndexEntries.add(Map.of(
                "mediaType",
                "application/vnd.oci.image.manifest.v1+json",
                "digest",
                "sha256:" + "a".repeat(64),
                "size",
                1,
                "annotations",
                Map.of("vnd.docker.reference.type", "attestation-manifest"),
                "platform",
                Map.of("os", "linux", "architecture", "amd64")));

        assertThat(ImageCheck.check(built.writeOciLayout(image), policy, MAIN))
                .containsExactly(
                        "the tarball holds 2 images or platforms; save exactly one image per tarball to verify it");
    }

    @Test
    void manifestJsonBesideAnIndexNamingTheSameImagePasses() throws IOException {
        ImageTars.Image built = good();
        built.alsoManifestJson = true;

        assertThat(ImageCheck.check(built.writeOciLayout(image), policy, MAIN)).isEmpty();
    }

    @Test
    void manifestJsonAndAnIndexNamingDifferentConfigsAreAProblem() throws IOException {
        ImageTars.Image root = good();
        root.user = "0:0";
        ImageTars.Image built = good();
        built.alsoManifestJson = true;
        built.ociConfig = root.config(); // what containerd runs; Docker's manifest.json names the good one

        assertThat(ImageCheck.check(built.writeOciLayout(image), policy, MAIN))
                .containsExactly("manifest.json and index.json name different configs or layers: Docker may load the"
                        + " one and containerd the other; save the image again");
    }

    @Test
    void twoPlatformsInAnOciLayoutAreAProblem() throws IOException {
        ImageTars.Image built = good();
        built.moreIndexEntries.add(Map.of(
                "mediaType",
                "application/vnd.oci.image.manifest.v1+json",
                "digest",
                "sha256:" + "b".repeat(64),
                "size",
                1,
                "platform",
                Map.of("os", "linux", "architecture", "arm64")));

        assertThat(ImageCheck.check(built.writeOciLayout(image), policy, MAIN))
                .containsExactly(
                        "the tarball holds 2 images or platforms; save exactly one image per tarball to verify it");
    }

    @Test
    void aLaterLayerThatReplacesAFileLeavesTheLastVersion() throws IOException {
        ImageTars.Image built = good();
        built.layers.get(1).set(4, Entry.file("app/policy.yaml", bytes("old: policy\n"), 0666, 65532));
        built.layers.add(List.of(Entry.file("app/policy.yaml", bytes(POLICY), 0444, 0)));

        assertThat(check(built)).isEmpty();
    }

    static Stream<Arguments> badImages() {
        return Stream.of(
                bad("root user", image -> image.user = "0:0", "runs as root (User '0:0')"),
                bad("root by name", image -> image.user = "root", "runs as root (User 'root')"),
                bad("no user", image -> image.user = null, "runs as root (no User)"),
                bad("user by name", image -> image.user = "nonroot", "'nonroot' is a name"),
                bad("another uid", image -> image.user = "1000:1000", "User is '1000:1000', expected 65532:65532"),
                bad(
                        "a shell as a file",
                        image -> image.layers.add(List.of(Entry.file("bin/sh", "ELF"))),
                        "layer 3 of 3 has /bin/sh, a shell"),
                bad(
                        "a shell as a link to busybox",
                        image -> image.layers.add(List.of(Entry.symlink("bin/sh", "/bin/busybox"))),
                        "layer 3 of 3 has /bin/sh (a link), a shell"),
                bad(
                        "busybox anywhere, and a link to it",
                        image -> image.layers.add(List.of(
                                Entry.file("opt/tools/busybox", "ELF"), Entry.symlink("opt/tools/ls", "busybox"))),
                        "has /opt/tools/busybox, a shell",
                        "has /opt/tools/ls, a link to busybox"),
                bad(
                        "a shell a later layer deletes",
                        image -> {
                            image.layers.add(List.of(Entry.file("bin/bash", "ELF")));
                            image.layers.add(List.of(Entry.whiteout("bin", "bash")));
                        },
                        "layer 3 of 4 has /bin/bash, a shell"),
                bad(
                        "apt and dpkg",
                        image -> image.layers.add(List.of(
                                Entry.file("usr/bin/apt-get", "ELF"), Entry.symlink("usr/bin/dpkg", "dpkg.real"))),
                        "/usr/bin/apt-get, a package manager",
                        "/usr/bin/dpkg (a link), a package manager"),
                bad(
                        "wrong entrypoint",
                        image -> image.entrypoint = List.of("java", "-jar", "/app/server.jar"),
                        "the Entrypoint is [\"java\",\"-jar\",\"/app/server.jar\"], expected [\"java\",\"-cp\""),
                bad("no entrypoint", image -> image.entrypoint = null, "the Entrypoint is (none)"),
                bad("a Cmd", image -> image.cmd = List.of("--debug"), "a Cmd [\"--debug\"]"),
                bad(
                        "missing label",
                        image -> image.labels.remove(ContainerProfile.LABEL_SERVER),
                        "the label dev.mcpsecure.server is missing, expected 'imaged'"),
                bad(
                        "changed label",
                        image -> image.labels.put(ContainerProfile.LABEL_RUN, "--privileged"),
                        "the label dev.mcpsecure.run is '--privileged', expected '--read-only"),
                bad(
                        "empty source label, no revision",
                        image -> {
                            image.labels.put(ImageCheck.LABEL_SOURCE, "");
                            image.labels.remove(ImageCheck.LABEL_REVISION);
                        },
                        "org.opencontainers.image.source is missing or empty",
                        "org.opencontainers.image.revision is missing or empty"),
                bad("no /tmp volume", image -> image.volumes.clear(), "the volume /tmp is missing"),
                bad(
                        "policy bytes differ",
                        image -> appLayer(image)
                                .set(4, Entry.file("app/policy.yaml", bytes(POLICY + "# edited\n"), 0444, 0)),
                        "the policy /app/policy.yaml in the image differs from"),
                bad(
                        "policy writable by all",
                        image -> appLayer(image).set(4, Entry.file("app/policy.yaml", bytes(POLICY), 0666, 0)),
                        "the policy /app/policy.yaml has mode 0666"),
                bad(
                        "policy owned by the server user",
                        image -> appLayer(image).set(4, Entry.file("app/policy.yaml", bytes(POLICY), 0644, 65532)),
                        "the policy /app/policy.yaml is owned by uid 65532"),
                bad(
                        "policy a link",
                        image -> appLayer(image).set(4, Entry.symlink("app/policy.yaml", "/tmp/policy.yaml")),
                        "the policy /app/policy.yaml is not a regular file"),
                bad(
                        "policy deleted by a later layer",
                        image -> image.layers.add(List.of(Entry.whiteout("app", "policy.yaml"))),
                        "the policy /app/policy.yaml is not in the image"),
                bad(
                        "lockfile missing",
                        image -> appLayer(image).remove(5),
                        "the lockfile /app/demo.lock is not in the image"),
                bad("SBOM missing", image -> appLayer(image).remove(6), "no SBOM at /app/sbom.cdx.json"),
                bad(
                        "SBOM not CycloneDX",
                        image -> appLayer(image)
                                .set(6, Entry.file("app/sbom.cdx.json", "{\"spdxVersion\":\"SPDX-2.3\"}")),
                        "has bomFormat (none), not 'CycloneDX'"),
                bad(
                        "SBOM not JSON",
                        image -> appLayer(image).set(6, Entry.file("app/sbom.cdx.json", "{\"bomFormat\":")),
                        "the SBOM /app/sbom.cdx.json is not valid JSON"),
                bad(
                        "no jars",
                        image -> {
                            appLayer(image).remove(3);
                            appLayer(image).remove(2);
                        },
                        "no jar in /app/lib"),
                bad(
                        "jars the server user can change",
                        image -> {
                            appLayer(image).set(2, Entry.file("app/lib/server.jar", bytes("PK"), 0644, 65532));
                            appLayer(image).set(3, Entry.file("app/lib/mcp-secure-core.jar", bytes("PK"), 0666, 0));
                        },
                        "2 jar(s) in /app/lib are not owned by root or are writable by others (first:"
                                + " mcp-secure-core.jar uid 0 mode 0666): copy them with --chown=0:0 --chmod=0444"),
                bad(
                        "jars hidden by an opaque whiteout",
                        image ->
                                image.layers.add(List.of(Entry.dir("app/lib/"), Entry.whiteout("app/lib", ".wh..opq"))),
                        "no jar in /app/lib"),
                bad(
                        "a shell written through a symlinked folder",
                        image -> image.layers.add(
                                List.of(Entry.symlink("x", "usr/bin"), Entry.file("x/sh", bytes("ELF"), 0755, 0))),
                        "layer 3 of 3 writes /x/sh through the symlink /x (to usr/bin): an engine follows it"),
                bad(
                        "the policy written through a symlinked folder",
                        image -> image.layers.add(List.of(
                                Entry.symlink("y", "app"),
                                Entry.file("y/policy.yaml", bytes("tools:\n  - name: \"*\"\n"), 0666, 65532))),
                        "layer 3 of 3 writes /y/policy.yaml through the symlink /y (to app)"),
                bad(
                        "through a symlink an earlier layer made",
                        image -> {
                            image.layers.add(List.of(Entry.symlink("opt/tools", "/usr/bin")));
                            image.layers.add(List.of(Entry.file("opt/tools/bash", "ELF")));
                        },
                        "layer 4 of 4 writes /opt/tools/bash through the symlink /opt/tools (to /usr/bin)"),
                bad(
                        "a hard link that chowns the policy",
                        image -> image.layers.add(List.of(
                                Entry.dir("tmp/"),
                                new Entry("tmp/p", '1', 0666, 65532, 65532, new byte[0], "app/policy.yaml", -1))),
                        "layer 3 of 3 has a hard link /tmp/p to /app/policy.yaml: an engine gives the shared file"
                                + " the link's owner and mode (uid 65532, 0666)"),
                bad(
                        "a hard link to a jar",
                        image -> image.layers.add(List.of(
                                new Entry("tmp/j", '1', 0666, 65532, 65532, new byte[0], "/app/lib/server.jar", -1))),
                        "layer 3 of 3 has a hard link /tmp/j to /app/lib/server.jar"),
                bad(
                        "a hard link to a shell",
                        image -> image.layers.add(
                                List.of(new Entry("opt/run", '1', 0755, 0, 0, new byte[0], "usr/bin/sh", -1))),
                        "layer 3 of 3 has /opt/run, a hard link to /usr/bin/sh (a shell)"),
                bad(
                        "a symlink in /app/lib",
                        image -> appLayer(image).add(Entry.symlink("app/lib/evil.jar", "/var/log/mcp/evil.jar")),
                        "1 entries in /app/lib are not regular files (first: evil.jar, a symlink to"
                                + " /var/log/mcp/evil.jar): copy the jars there as files"),
                bad(
                        "a hard link and a device in /app/lib",
                        image -> appLayer(image)
                                .addAll(List.of(
                                        new Entry("app/lib/a.jar", '1', 0444, 0, 0, new byte[0], "etc/passwd", -1),
                                        new Entry("app/lib/b.jar", '3', 0666, 0, 0, new byte[0], "", -1))),
                        "2 entries in /app/lib are not regular files (first: a.jar, a hard link to etc/passwd)"),
                bad(
                        "/app the server user's and writable",
                        image ->
                                appLayer(image).set(0, new Entry("app/", '5', 0777, 65532, 65532, new byte[0], "", -1)),
                        "the folder /app is owned by uid 65532 with mode 0777: the server could replace the files"
                                + " in it"),
                bad(
                        "/app/lib group-writable",
                        image -> appLayer(image).set(1, new Entry("app/lib/", '5', 0775, 0, 0, new byte[0], "", -1)),
                        "the folder /app/lib is owned by uid 0 with mode 0775"),
                bad(
                        "/app handed over by a later layer",
                        image -> image.layers.add(
                                List.of(new Entry("app/", '5', 0755, 65532, 65532, new byte[0], "", -1))),
                        "the folder /app is owned by uid 65532 with mode 0755"),
                bad(
                        "several problems at once",
                        image -> {
                            image.user = "0";
                            image.cmd = List.of("sh");
                            image.layers.add(List.of(Entry.file("bin/sh", "ELF")));
                            appLayer(image).set(4, Entry.file("app/policy.yaml", bytes(POLICY), 0666, 65532));
                        },
                        "runs as root (User '0')",
                        "a Cmd [\"sh\"]",
                        "/bin/sh, a shell",
                        "is owned by uid 65532",
                        "has mode 0666"));
    }

    private static List<Entry> appLayer(ImageTars.Image image) {
        return image.layers.get(1);
    }

    private static Arguments bad(String name, Consumer<ImageTars.Image> change, String... problems) {
        return Arguments.of(name, change, List.of(problems));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badImages")
    void aBadImageFailsWithOneLinePerProblem(String name, Consumer<ImageTars.Image> change, List<String> problems)
            throws IOException {
        ImageTars.Image built = good();
        change.accept(built);

        List<String> lines = ImageCheck.check(built.writeDockerSave(image), policy, MAIN);

        assertThat(lines).as(name).hasSize(problems.size());
        for (String problem : problems) {
            assertThat(lines).as(name).anySatisfy(line -> assertThat(line).contains(problem));
        }
        assertThat(lines)
                .allSatisfy(line -> assertThat(line).doesNotContain("\n").doesNotContain("Exception"));
    }

    @Test
    void mergedUsrSymlinksInTheBaseAreNoProblem() throws IOException {
        ImageTars.Image built = good();
        built.layers
                .get(0)
                .addAll(
                        0,
                        List.of(
                                Entry.symlink("bin", "usr/bin"),
                                Entry.symlink("lib", "usr/lib"),
                                Entry.symlink("lib64", "usr/lib64"),
                                Entry.symlink("sbin", "usr/sbin")));
        built.layers.get(0).add(Entry.file("usr/lib/libc.so.6", "ELF"));
        // a folder in place of a symlink replaces it: writing below it is fine
        built.layers.add(List.of(Entry.symlink("opt/x", "/usr/lib")));
        built.layers.add(List.of(Entry.dir("opt/x/"), Entry.file("opt/x/data", "x")));

        assertThat(check(built)).isEmpty();
    }

    @Test
    void findingsCarryStableCodes() throws IOException {
        ImageTars.Image built = good();
        built.user = "root";
        built.layers.add(List.of(Entry.file("bin/bash", "ELF"), Entry.file("sbin/apk", "ELF")));

        assertThat(check(built))
                .extracting(ImageCheck.Finding::code)
                .containsExactlyInAnyOrder(
                        ImageCheck.Code.USER, ImageCheck.Code.SHELL, ImageCheck.Code.PACKAGE_MANAGER);
    }

    @Test
    void aSignedLockfilesSignatureMustBeInTheImageToo() throws IOException {
        Files.writeString(policy, POLICY + "  signature:\n    publicKey: lock-key.jwk\n");
        Files.writeString(dir.resolve("demo.lock.jws"), "eyJhbGciOiJFUzI1NiJ9..sig");
        Files.writeString(dir.resolve("lock-key.jwk"), "{\"kty\":\"EC\"}");
        ImageTars.Image built = good();
        appLayer(built).set(4, Entry.file("app/policy.yaml", Files.readAllBytes(policy), 0444, 0));
        appLayer(built).add(Entry.file("app/lock-key.jwk", Files.readAllBytes(dir.resolve("lock-key.jwk")), 0444, 0));

        assertThat(ImageCheck.check(built.writeDockerSave(image), policy, MAIN))
                .containsExactly("the lockfile signature /app/demo.lock.jws is not in the image: copy "
                        + dir.resolve("demo.lock.jws") + " there");
    }

    // integrity: the config describes the layers, content-addressed blobs match their names

    @Test
    void aLayerSwappedAfterTheConfigWasWrittenIsAProblem() throws IOException {
        ImageTars.Image built = good();
        built.diffIdLayers = new ArrayList<>(built.layers);
        built.diffIdLayers.set(1, List.of(Entry.file("app/other", "x")));

        assertThat(check(built))
                .extracting(ImageCheck.Finding::message)
                .containsExactly("layer 2 of 2 does not match its diff_id in the config: the tarball was changed after"
                        + " it was made");
    }

    @Test
    void aConfigWithoutDiffIdsIsAProblem() throws IOException {
        ImageTars.Image built = good();
        built.diffIdLayers = List.of(built.layers.get(0));

        assertThat(check(built))
                .extracting(ImageCheck.Finding::message)
                .containsExactly("the config's rootfs.diff_ids do not list the 2 layers: the config does not describe"
                        + " these layers");
    }

    @Test
    void aBlobThatDoesNotMatchItsDigestIsAProblem() throws IOException {
        ImageTars.Image built = good();
        built.gzip = false;
        Path file = built.writeOciLayout(image);
        byte[] bytes = Files.readAllBytes(file);
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        int at = text.indexOf("nonroot:x:65532");
        bytes[at] = 'N'; // the base layer's /etc/passwd, changed in place
        Files.write(file, bytes);

        assertThat(ImageCheck.check(file, policy, MAIN))
                .containsExactly(
                        "layer 1 of 2 does not match its digest: the tarball was changed after it was made",
                        "layer 1 of 2 does not match its diff_id in the config: the tarball was changed after it was made");
    }

    @Test
    void aConfigThatDoesNotMatchItsDigestIsAProblem() throws IOException {
        Path file = good().writeOciLayout(image);
        byte[] bytes = Files.readAllBytes(file);
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        int at = text.indexOf("\"User\":\"65532:65532\"") + "\"User\":\"".length();
        bytes[at] = '7'; // 75532
        Files.write(file, bytes);

        assertThat(ImageCheck.check(file, policy, MAIN))
                .containsExactly(
                        "the image config does not match its digest: the tarball was changed after it was made");
    }

    @Test
    void theLockfileIsExpectedWhereThePolicyInTheImageFindsIt() throws IOException {
        Path conf = Files.createDirectory(dir.resolve("conf"));
        Path locks = Files.createDirectory(dir.resolve("locks"));
        String text = POLICY.replace("lockfile: demo.lock", "lockfile: ../locks/demo.lock");
        Path moved = Files.writeString(conf.resolve("policy.yaml"), text);
        Files.writeString(locks.resolve("demo.lock"), LOCK);
        ImageTars.Image built = good();
        appLayer(built).set(4, Entry.file("app/policy.yaml", bytes(text), 0444, 0));

        assertThat(ImageCheck.check(built.writeDockerSave(image), moved, MAIN))
                .containsExactly("the lockfile /locks/demo.lock is not in the image: copy "
                        + conf.resolve("../locks/demo.lock").normalize() + " there");

        appLayer(built).set(5, Entry.file("locks/demo.lock", bytes(LOCK), 0444, 0));
        assertThat(ImageCheck.check(built.writeDockerSave(image), moved, MAIN)).isEmpty();
    }

    // hostile and broken tarballs: a problem line each, never an exception

    private List<String> checkRaw(byte[] tar) throws IOException {
        Files.write(image, tar);
        return ImageCheck.check(image, policy, MAIN);
    }

    @Test
    void anEntryLeavingTheRootIsAProblem() throws IOException {
        ImageTars.Image built = good();
        built.layers.add(List.of(Entry.file("../../etc/cron.d/evil", "* * * * * root sh")));

        assertThat(check(built))
                .extracting(ImageCheck.Finding::message)
                .containsExactly("layer 3 of 3 has an entry named '../../etc/cron.d/evil' that leaves the image's"
                        + " root: a hostile tarball?");
    }

    @Test
    void problemLinesStopAtTheCapAndCountTheRest() throws IOException {
        ImageTars.Image built = good();
        List<Entry> evil = new ArrayList<>();
        for (int i = 0; i < ImageCheck.MAX_PROBLEMS + 50; i++) {
            evil.add(Entry.file("../evil" + i, "x"));
        }
        built.layers.add(evil);

        List<String> lines = ImageCheck.check(built.writeDockerSave(image), policy, MAIN);

        assertThat(lines).hasSize(ImageCheck.MAX_PROBLEMS + 1).last().isEqualTo("... and 50 more problems");
    }

    @Test
    void anOuterEntryLeavingTheRootIsAProblem() throws IOException {
        byte[] good = Files.readAllBytes(good().writeDockerSave(image));
        byte[] evil = ImageTars.tar(List.of(Entry.file("../evil", "x")));
        byte[] both = Arrays.copyOf(evil, evil.length - 1024 + good.length);
        System.arraycopy(good, 0, both, evil.length - 1024, good.length);

        assertThat(checkRaw(both))
                .containsExactly("the tarball has an entry named '../evil' that leaves its root: a hostile tarball?");
    }

    @Test
    void aTruncatedGzipLayerIsAProblem() throws IOException {
        ImageTars.Image built = good();
        Path file = built.writeDockerSave(image);
        byte[] blob = built.layerBlobs().get(1);
        byte[] cut = Arrays.copyOf(blob, blob.length / 2);
        List<Entry> outer = new ArrayList<>();
        outer.add(Entry.file("layer0/layer.tar", built.layerBlobs().get(0), 0644, 0));
        outer.add(Entry.file("layer1/layer.tar", cut, 0644, 0));
        outer.add(Entry.file("config.json", built.config(), 0644, 0));
        outer.add(Entry.file(
                "manifest.json",
                "[{\"Config\":\"config.json\",\"Layers\":[\"layer0/layer.tar\",\"layer1/layer.tar\"]}]"));
        Files.write(file, ImageTars.tar(outer));

        assertThat(ImageCheck.check(file, policy, MAIN))
                .containsExactly(
                        "layer 2 of 2 cannot be read: corrupt or truncated compressed data",
                        "the files of the image were not checked: a layer cannot be read");
    }

    @Test
    void aLayerEntryDeclaringTwoGibibytesIsAProblem() throws IOException {
        ImageTars.Image built = good();
        built.layers.add(List.of(new Entry("app/huge", '0', 0644, 0, 0, new byte[0], "", 2L << 30)));

        assertThat(check(built))
                .extracting(ImageCheck.Finding::message)
                .containsExactly(
                        "layer 3 of 3 cannot be read: truncated tar entry",
                        "the files of the image were not checked: a layer cannot be read");
    }

    @Test
    void anOuterEntryDeclaringTwoGibibytesIsAProblem() throws IOException {
        byte[] tar = ImageTars.tar(List.of(
                Entry.file("manifest.json", "[]"), new Entry("blob", '0', 0644, 0, 0, new byte[0], "", 2L << 30)));

        assertThat(checkRaw(tar)).containsExactly("the tarball is not a readable image: truncated tar entry");
    }

    @Test
    void aCompressionBombStopsAtTheCap() throws IOException {
        ImageTars.Image built = good();
        built.layers.add(List.of(Entry.file("app/zeros", new byte[8 << 20], 0644, 0)));
        built.layers.add(List.of(Entry.file("app/more-zeros", new byte[8 << 20], 0644, 0)));
        Path file = built.writeDockerSave(image);
        assertThat(Files.size(file)).isLessThan(1 << 20);

        assertThat(ImageCheck.findings(file, policy, MAIN, 4 << 20))
                .extracting(ImageCheck.Finding::message)
                .containsExactly(
                        "layer 3 of 4 cannot be read: the layers unpack to more than 4194304 bytes (a compression bomb?)",
                        "the files of the image were not checked: a layer cannot be read");
    }

    @Test
    void badConfigJsonIsAProblem() throws IOException {
        good().writeDockerSave(image, bytes("{\"config\": {\"User\": "));

        assertThat(ImageCheck.check(image, policy, MAIN)).containsExactly("the image config is not valid JSON");
    }

    @Test
    void duplicateKeysInTheConfigAreAProblem() throws IOException {
        good().writeDockerSave(image, bytes("{\"config\": {\"User\": \"65532:65532\", \"User\": \"0\"}}"));

        assertThat(ImageCheck.check(image, policy, MAIN)).containsExactly("the image config is not valid JSON");
    }

    /** The good image's config with {@code change} made to its {@code config} object. */
    private static byte[] configWith(ImageTars.Image built, Consumer<tools.jackson.databind.node.ObjectNode> change) {
        tools.jackson.databind.node.ObjectNode root =
                (tools.jackson.databind.node.ObjectNode) ImageTars.JSON.readTree(built.config());
        change.accept((tools.jackson.databind.node.ObjectNode) root.get("config"));
        return ImageTars.JSON.writeValueAsBytes(root);
    }

    @Test
    void keysEqualButForCaseInTheConfigAreAProblem() throws IOException {
        ImageTars.Image built = good();
        built.writeDockerSave(image, configWith(built, config -> {
            config.put("user", "0:0");
            config.putArray("cmd").add("-version");
        }));

        assertThat(ImageCheck.check(image, policy, MAIN))
                .containsExactly("the image config has the keys 'User' and 'user' in one object, equal but for case:"
                        + " Go's JSON reader (Docker, containerd) takes them as one and the last wins; a hostile"
                        + " image?");
    }

    @Test
    void keysEqualButForCaseDeepInTheConfigAreAProblem() throws IOException {
        ImageTars.Image built = good();
        built.writeDockerSave(image, configWith(built, config -> config.putObject("Healthcheck")
                .put("Test", "a")
                .put("teſt", "b")));

        assertThat(ImageCheck.check(image, policy, MAIN))
                .singleElement()
                .asString()
                .startsWith("the image config has the keys 'Test' and 'te");
    }

    @Test
    void aCmdInLowerCaseIsACmd() throws IOException {
        ImageTars.Image built = good();
        built.writeDockerSave(
                image, configWith(built, config -> config.putArray("cmd").add("--debug")));

        assertThat(ImageCheck.check(image, policy, MAIN))
                .containsExactly("the image has a Cmd [\"--debug\"], which would be appended to the entry point as"
                        + " arguments: set CMD []");
    }

    @Test
    void keysEqualButForCaseInTheManifestAreAProblem() throws IOException {
        ImageTars.Image built = good();
        Path file = image;
        List<Entry> outer = new ArrayList<>();
        List<String> names = List.of("layer0/layer.tar", "layer1/layer.tar");
        for (int i = 0; i < names.size(); i++) {
            outer.add(Entry.file(names.get(i), built.layerBlobs().get(i), 0644, 0));
        }
        outer.add(Entry.file("config.json", built.config(), 0644, 0));
        outer.add(Entry.file(
                "manifest.json",
                "[{\"Config\":\"config.json\",\"Layers\":[\"layer0/layer.tar\",\"layer1/layer.tar\"],"
                        + "\"layers\":[\"layer0/layer.tar\"]}]"));
        Files.write(file, ImageTars.tar(outer));

        assertThat(ImageCheck.check(file, policy, MAIN))
                .containsExactly("manifest.json has the keys 'Layers' and 'layers' in one object, equal but for case:"
                        + " Go's JSON reader (Docker, containerd) takes them as one and the last wins; a hostile"
                        + " image?");
    }

    @Test
    void aConfigOverOneMebibyteIsAProblem() throws IOException {
        good().writeDockerSave(image, new byte[(1 << 20) + 1]);

        assertThat(ImageCheck.check(image, policy, MAIN))
                .containsExactly("the image config has 1048577 bytes; at most 1048576 are read");
    }

    @Test
    void badManifestJsonIsAProblem() throws IOException {
        assertThat(checkRaw(ImageTars.tar(List.of(Entry.file("manifest.json", "[{")))))
                .containsExactly("manifest.json is not valid JSON");
    }

    @Test
    void twoImagesInOneTarballAreAProblem() throws IOException {
        String one = "{\"Config\":\"c.json\",\"Layers\":[]}";
        assertThat(checkRaw(ImageTars.tar(List.of(Entry.file("manifest.json", "[" + one + "," + one + "]")))))
                .containsExactly("the tarball holds 2 images; save exactly one image per tarball to verify it");
    }

    @Test
    void aLinkLoopInTheTarballIsAProblem() throws IOException {
        byte[] tar = ImageTars.tar(List.of(
                Entry.symlink("a/layer.tar", "../b/layer.tar"),
                Entry.symlink("b/layer.tar", "../a/layer.tar"),
                Entry.file("config.json", "{}"),
                Entry.file("manifest.json", "[{\"Config\":\"config.json\",\"Layers\":[\"a/layer.tar\"]}]")));

        assertThat(checkRaw(tar)).contains("layer 1 of 1 ('a/layer.tar') is a link loop or too long a chain");
    }

    @Test
    void bytesThatAreNoTarAreAProblem() throws IOException {
        byte[] noise = new byte[4096];
        new java.util.Random(26).nextBytes(noise);

        assertThat(checkRaw(noise)).singleElement().satisfies(line -> assertThat(line)
                .startsWith("the tarball is not a readable image: a tar header with a ")
                .endsWith(" (not a tar, or corrupt)"));
    }

    @Test
    void aGzippedTarballIsNamedAsSuch() throws IOException {
        byte[] tar = Files.readAllBytes(good().writeDockerSave(image));

        assertThat(checkRaw(ImageTars.gzip(tar)))
                .containsExactly("the tarball is gzip-compressed: gunzip it first (verify-image reads the tar docker"
                        + " save writes)");
    }

    @Test
    void randomlyDamagedTarballsGiveProblemLinesNeverSurprises() throws IOException {
        ImageTars.Image built = good();
        built.gzip = false;
        byte[] good = Files.readAllBytes(built.writeDockerSave(image));
        java.util.Random random = new java.util.Random(26);
        for (int round = 0; round < 200; round++) {
            byte[] damaged = good.clone();
            for (int i = 0; i < 1 + random.nextInt(8); i++) {
                damaged[random.nextInt(damaged.length)] = (byte) random.nextInt(256);
            }
            if (round % 4 == 0) {
                damaged = Arrays.copyOf(damaged, random.nextInt(damaged.length));
            }
            Files.write(image, damaged);
            List<String> lines = ImageCheck.check(image, policy, MAIN);
            assertThat(lines).as("round %d", round).noneSatisfy(line -> assertThat(line)
                    .contains("its format is unexpected here"));
        }
    }

    @Test
    void anEmptyTarballIsNoImage() throws IOException {
        assertThat(checkRaw(new byte[0]))
                .containsExactly("not an image tarball: no manifest.json or index.json (save it with docker save, or as"
                        + " an OCI image layout)");
    }

    @Test
    void aHostileNameIsPrintedSafely() throws IOException {
        ImageTars.Image built = good();
        built.layers.add(List.of(Entry.file("bin/sh", "ELF"), Entry.file("../\u001b[2Jx\nfake ok", "x")));

        assertThat(check(built))
                .extracting(ImageCheck.Finding::message)
                .allSatisfy(line -> assertThat(line).doesNotContain("\n").doesNotContain("\u001b"))
                .anySatisfy(line -> assertThat(line).contains("\\u001b[2Jx\\u000afake ok"));
    }

    // layers Go's archive/tar (Docker, containerd) would read otherwise than a lax reader: refused

    private List<String> checkRawLayer(byte[] layer) throws IOException {
        ImageTars.Image built = good();
        built.rawLayers.add(layer);
        return ImageCheck.check(built.writeDockerSave(image), policy, MAIN);
    }

    private static final byte[] SHELL = bytes("\u007fELFshell");

    static Stream<Arguments> layersReadersDisagreeOn() {
        return Stream.of(
                Arguments.of(
                        "a GNU header whose time fields look like a prefix",
                        ImageTars.rawTar(ImageTars.rawFile(
                                ImageTars.header("usr/bin/sh", '0', 0755, 0, 0, SHELL.length, "", "ustar  \u0000", "1"),
                                SHELL)),
                        "layer 3 of 3 has /usr/bin/sh, a shell"),
                Arguments.of(
                        "another magic with a prefix",
                        ImageTars.rawTar(ImageTars.rawFile(
                                ImageTars.header("usr/bin/sh", '0', 0755, 0, 0, SHELL.length, "", "ustarX00", "opt"),
                                SHELL)),
                        "layer 3 of 3 cannot be read: a tar header with neither POSIX nor GNU magic but a name"
                                + " prefix"),
                Arguments.of(
                        "two PAX headers in a row",
                        ImageTars.rawTar(
                                ImageTars.paxHeader('x', "path", "opt/harmless"),
                                ImageTars.paxHeader('x', "mtime", "1"),
                                ImageTars.rawFile(
                                        ImageTars.header("usr/bin/sh", '0', 0755, 0, 0, SHELL.length, ""), SHELL)),
                        "layer 3 of 3 cannot be read: two extended tar headers for one entry"),
                Arguments.of(
                        "a GNU sparse file by PAX",
                        ImageTars.rawTar(
                                ImageTars.paxHeader('x', "GNU.sparse.name", "usr/bin/sh"),
                                ImageTars.rawFile(
                                        ImageTars.header("opt/GNUSparseFile.0/harmless", '0', 0755, 0, 0, 5, ""),
                                        bytes("shell"))),
                        "layer 3 of 3 cannot be read: a PAX header for a GNU sparse file"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layersReadersDisagreeOn")
    void aLayerReadersDisagreeOnIsRefused(String name, byte[] layer, String problem) throws IOException {
        List<String> lines = checkRawLayer(layer);

        assertThat(lines).as(name).isNotEmpty().anySatisfy(line -> assertThat(line)
                .startsWith(problem));
        assertThat(lines).allSatisfy(line -> assertThat(line).doesNotContain("Exception"));
    }

    @Test
    void aGnuHeaderDoesNotHideAPolicyChange() throws IOException {
        byte[] evil = bytes("server:\n  name: imaged\ntools:\n  - name: \"*\"\n");
        List<String> lines = checkRawLayer(ImageTars.rawTar(ImageTars.rawFile(
                ImageTars.header("app/policy.yaml", '0', 0666, 65532, 65532, evil.length, "", "ustar  \u0000", "1"),
                evil)));

        assertThat(lines).anySatisfy(line -> assertThat(line)
                .startsWith("the policy /app/policy.yaml in the image" + " differs"));
    }

    // the command

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int command(Map<String, String> env, String... args) {
        return SecureStdioServer.run(
                args,
                env,
                new java.io.ByteArrayInputStream(new byte[0]),
                out,
                new PrintStream(err, true, StandardCharsets.UTF_8),
                Preflight.Runtime.current(),
                server -> {
                    throw new AssertionError("verify-image registers no tools");
                });
    }

    @Test
    void theCommandPrintsImageOkAndExitsZero() throws IOException {
        good().writeDockerSave(image);

        int exit = command(
                Map.of(), "verify-image", image.toString(), "--policy", policy.toString(), "--main-class", MAIN);

        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
        assertThat(exit).isEqualTo(ImageCheck.EXIT_OK);
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("image ok: " + image);
    }

    @Test
    void theCommandFindsThePolicyInTheEnvironment() throws IOException {
        good().writeDockerSave(image);

        int exit = command(
                Map.of(SecureStdioServer.POLICY_ENV, policy.toString()),
                "verify-image",
                "--main-class",
                MAIN,
                image.toString());

        assertThat(exit).isEqualTo(ImageCheck.EXIT_OK);
    }

    @Test
    void theCommandListsEachProblemOnStderrAndExitsOne() throws IOException {
        ImageTars.Image built = good();
        built.user = "root";
        built.layers.add(List.of(Entry.file("bin/sh", "ELF")));
        built.writeDockerSave(image);

        int exit = command(
                Map.of(), "verify-image", image.toString(), "--policy", policy.toString(), "--main-class", MAIN);

        assertThat(exit).isEqualTo(ImageCheck.EXIT_REJECTED).isEqualTo(1);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
        assertThat(err.toString(StandardCharsets.UTF_8).lines())
                .hasSize(2)
                .anySatisfy(line -> assertThat(line).contains("runs as root"))
                .anySatisfy(line -> assertThat(line).contains("/bin/sh, a shell"));
    }

    @Test
    void theCommandsUsageErrors() throws IOException {
        assertThat(command(Map.of(), "verify-image")).isEqualTo(ImageCheck.EXIT_USAGE);
        assertThat(command(Map.of(), "verify-image", image.toString(), "--main-class", MAIN))
                .as("no policy")
                .isEqualTo(ImageCheck.EXIT_USAGE);
        assertThat(command(Map.of(), "verify-image", "a.tar", "b.tar", "--policy", policy.toString()))
                .isEqualTo(ImageCheck.EXIT_USAGE);
        assertThat(command(
                        Map.of(),
                        "verify-image",
                        image.toString(),
                        "--policy",
                        policy.toString(),
                        "--main-class",
                        "not a class"))
                .isEqualTo(ImageCheck.EXIT_USAGE);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("usage: <server> verify-image <image.tar>");
    }

    @Test
    void theCommandsInputErrors() throws IOException {
        assertThat(command(
                        Map.of(),
                        "verify-image",
                        image.toString(),
                        "--policy",
                        policy.toString(),
                        "--main-class",
                        MAIN))
                .as("no image")
                .isEqualTo(ImageCheck.EXIT_NO_INPUT);
        assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo(image + ": no such file\n");
        Path folder = Files.createDirectory(dir.resolve("folder.tar"));
        assertThat(command(
                        Map.of(),
                        "verify-image",
                        folder.toString(),
                        "--policy",
                        policy.toString(),
                        "--main-class",
                        MAIN))
                .as("a folder")
                .isEqualTo(ImageCheck.EXIT_NO_INPUT);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains(folder + ": cannot be read");
        good().writeDockerSave(image);
        Files.delete(dir.resolve("demo.lock"));
        assertThat(command(
                        Map.of(),
                        "verify-image",
                        image.toString(),
                        "--policy",
                        policy.toString(),
                        "--main-class",
                        MAIN))
                .as("no local lockfile")
                .isEqualTo(ImageCheck.EXIT_NO_INPUT);
        Files.writeString(policy, "server: [");
        assertThat(command(
                        Map.of(),
                        "verify-image",
                        image.toString(),
                        "--policy",
                        policy.toString(),
                        "--main-class",
                        MAIN))
                .as("invalid policy")
                .isEqualTo(ImageCheck.EXIT_INVALID_POLICY);
    }

    /** A server's main, as the launchers see it. */
    public static final class FakeServer {
        static String seen;

        public static void main(String[] args) {
            Runnable launcher = () -> seen = ImageCheck.callerMainClass().orElse(null);
            launcher.run();
        }
    }

    @Test
    void theMainClassIsTheInnermostStaticMainOnTheStack() {
        FakeServer.main(new String[0]);

        assertThat(FakeServer.seen).isEqualTo(FakeServer.class.getName());
    }
}
