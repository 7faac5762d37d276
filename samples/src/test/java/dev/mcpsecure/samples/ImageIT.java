package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.core.ContainerProfile;
import dev.mcpsecure.core.PolicyLoader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Opens each image tarball {@link ImageBuild} wrote and checks it with its own reading code: the
 * configuration is {@link ContainerProfile#image} of the sample's policy, the policy and lockfile
 * are the source files, root-owned and read-only, the SBOM is there, no shell or package manager
 * is in any layer, and git only in the git image. Then runs the image's root without the host's
 * libraries (a chroot in fresh mount and PID namespaces, as the image's user): {@code java
 * -version}, and the entry point answering {@code initialize} over stdio.
 */
class ImageIT {

    private static final Path IMAGES = Path.of("target", "images");
    private static final Path POLICIES = Path.of("policies");
    /** Each image's server main class, as ImageBuild built it. */
    private static final Map<String, String> MAIN_CLASSES = ImageBuild.SERVERS.stream()
            .collect(Collectors.toMap(ImageBuild.Server::name, ImageBuild.Server::mainClass));
    /** Programs an image must not hold, in any directory. */
    private static final Set<String> FORBIDDEN = Set.of(
            "sh",
            "bash",
            "dash",
            "ash",
            "busybox",
            "zsh",
            "ksh",
            "csh",
            "tcsh",
            "mksh",
            "apt",
            "apt-get",
            "apt-cache",
            "aptitude",
            "dpkg",
            "dpkg-deb",
            "dpkg-query",
            "rpm",
            "yum",
            "dnf",
            "microdnf",
            "apk",
            "perl",
            "python3",
            "su",
            "sudo",
            "curl",
            "wget");

    /** A file, directory or symlink of the image's file system, after all layers. */
    record Node(char type, int mode, long uid, long gid, byte[] data, String link) {}

    /** An image tarball, read. */
    record Image(Map<String, Object> config, Map<String, Node> files, List<String> tags) {
        @SuppressWarnings("unchecked")
        Map<String, Object> container() {
            return (Map<String, Object>) config.get("config");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"demo", "filesystem", "git", "http-api"})
    void imageIsTheProfileOfItsPolicy(String name) throws Exception {
        Path policyFile = POLICIES.resolve(name + ".yaml");
        SecurityPolicy policy = PolicyLoader.load(policyFile);
        ContainerProfile.Image profile = ContainerProfile.image(policy, MAIN_CLASSES.get(name));
        Image image = read(IMAGES.resolve(name + ".tar"));

        assertThat(image.tags()).singleElement().asString().startsWith("mcp-secure/" + name + ":");
        Map<String, Object> container = image.container();
        assertThat(container.get("User")).isEqualTo(profile.user());
        assertThat(container.get("Entrypoint")).isEqualTo(profile.entrypoint());
        Map<String, Object> labels = JsonValues.object(container.get("Labels"));
        Map<String, Object> expected = new TreeMap<>(profile.labels());
        expected.put("org.opencontainers.image.source", "https://github.com/mcp-secure/mcp-secure");
        expected.put("org.opencontainers.image.title", policy.server().name());
        expected.put("org.opencontainers.image.revision", labels.get("org.opencontainers.image.revision"));
        assertThat(new TreeMap<>(labels)).isEqualTo(expected);
        assertThat((String) labels.get("org.opencontainers.image.revision")).matches("[0-9a-f]{40}");
        assertThat(JsonValues.object(container.get("Volumes")).keySet()).containsExactlyElementsOf(profile.volumes());
        assertThat(JsonValues.array(container.get("Env")))
                .anyMatch(env -> ((String) env).startsWith("PATH=/opt/java/bin:"));
        assertThat(image.config().get("os")).isEqualTo("linux");

        Map<String, Node> files = image.files();
        Node java = files.get("opt/java/bin/java");
        assertThat(java).as("the JRE's java on the PATH").isNotNull();
        assertThat(java.mode() & 0111).isNotZero();

        Path lock = policy.pinning().lockfile().orElseThrow();
        assertRootReadOnly(files, "app/policy.yaml", Files.readAllBytes(policyFile));
        assertRootReadOnly(files, "app/" + lock.getFileName(), Files.readAllBytes(lock));
        assertThat(ContainerProfile.IMAGE_POLICY).isEqualTo("/app/policy.yaml");

        Node sbomNode = files.get(ContainerProfile.IMAGE_SBOM.substring(1));
        assertThat(sbomNode).as("the SBOM").isNotNull();
        Map<String, Object> sbom =
                JsonValues.object(JsonValues.parse(new String(sbomNode.data(), StandardCharsets.UTF_8)));
        assertThat(sbom.get("bomFormat")).isEqualTo("CycloneDX");
        List<String> purls = new ArrayList<>();
        for (Object component : JsonValues.array(sbom.get("components"))) {
            Object purl = JsonValues.object(component).get("purl");
            purls.add(purl == null ? "" : (String) purl);
        }
        assertThat(purls).anyMatch(p -> p.startsWith("pkg:maven/dev.mcpsecure/mcp-secure-core@"));
        assertThat(purls).anyMatch(p -> p.startsWith("pkg:deb/debian/libc6@"));
        assertThat(purls).anyMatch(p -> p.startsWith("pkg:deb/debian/zlib1g@"));
        assertThat(JsonValues.array(sbom.get("components")))
                .anyMatch(c -> "platform".equals(JsonValues.object(c).get("type")));

        List<String> jars = new ArrayList<>();
        for (Map.Entry<String, Node> file : files.entrySet()) {
            String path = file.getKey();
            Node node = file.getValue();
            String base = path.substring(path.lastIndexOf('/') + 1);
            assertThat(FORBIDDEN).as("%s in the %s image", path, name).doesNotContain(base);
            assertThat(path)
                    .doesNotStartWith("var/lib/dpkg")
                    .doesNotStartWith("etc/apt")
                    .doesNotStartWith("usr/lib/git-core");
            assertThat(node.mode() & 06000).as("setuid/setgid %s", path).isZero();
            assertThat(node.uid()).as("owner of %s", path).isZero();
            assertThat(node.gid()).as("group of %s", path).isZero();
            if (path.startsWith("app/lib/")) {
                assertThat(path).endsWith(".jar");
                assertThat(node.mode() & 0222).as("%s writable", path).isZero();
                jars.add(base);
            }
        }
        assertThat(jars).anyMatch(jar -> jar.startsWith("samples-"));
        assertThat(jars).anyMatch(jar -> jar.startsWith("mcp-secure-core-"));
        assertThat(jars).anyMatch(jar -> jar.startsWith("mcp-core-"));
        assertThat(files.containsKey("usr/bin/git"))
                .as("git in the %s image", name)
                .isEqualTo(name.equals("git"));
        assertThat(purls.stream().anyMatch(p -> p.startsWith("pkg:deb/debian/git@")))
                .isEqualTo(name.equals("git"));

        String passwd = new String(files.get("etc/passwd").data(), StandardCharsets.US_ASCII);
        assertThat(passwd).contains("nonroot:x:65532:65532:");
        for (String line : passwd.split("\n")) {
            String shell = line.substring(line.lastIndexOf(':') + 2);
            assertThat(files).as("login shell of %s", line).doesNotContainKey(shell);
        }
    }

    /**
     * The containers/image library (skopeo; Podman and CRI-O read images with it) reads each
     * tarball in both of its layouts and copies it, which checks every blob against its digest.
     */
    @ParameterizedTest
    @ValueSource(strings = {"demo", "filesystem", "git", "http-api"})
    void skopeoReadsAndCopiesBothLayouts(String name, @TempDir Path dir) throws Exception {
        assertThat(Path.of("/usr/bin/skopeo"))
                .as("skopeo (Debian package skopeo; .ci/run installs it)")
                .isExecutable();
        String tar = IMAGES.resolve(name + ".tar").toAbsolutePath().toString();

        Result config = run(List.of("skopeo", "inspect", "--config", "docker-archive:" + tar));
        Map<String, Object> container = JsonValues.object(
                JsonValues.object(JsonValues.parse(config.out())).get("config"));
        ContainerProfile.Image expected =
                ContainerProfile.image(PolicyLoader.load(POLICIES.resolve(name + ".yaml")), MAIN_CLASSES.get(name));
        assertThat(container.get("User")).isEqualTo(expected.user());
        assertThat(JsonValues.array(container.get("Entrypoint"))).isEqualTo(List.copyOf(expected.entrypoint()));

        run(List.of("skopeo", "copy", "-q", "docker-archive:" + tar, "oci:" + dir.resolve("from-docker") + ":x"));
        run(List.of("skopeo", "copy", "-q", "oci-archive:" + tar, "oci:" + dir.resolve("from-oci") + ":x"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"demo", "filesystem", "git", "http-api"})
    void imageRunsWithoutTheHostsLibraries(String name, @TempDir Path dir) throws Exception {
        // no container runtime here: the image's root runs under unshare and chroot, which need root
        assertThat(new String(
                                new ProcessBuilder("id", "-u")
                                        .start()
                                        .getInputStream()
                                        .readAllBytes(),
                                StandardCharsets.US_ASCII)
                        .strip())
                .as("running an image's root needs root (unshare, chroot); run the ITs as root or with -DskipITs")
                .isEqualTo("0");
        assertThat(Path.of("/usr/bin/unshare")).as("util-linux unshare").isExecutable();
        assertThat(Path.of("/usr/sbin/chroot")).as("coreutils chroot").isExecutable();
        Image image = read(IMAGES.resolve(name + ".tar"));
        Path root = dir.resolve("root");
        extract(image.files(), root);
        Files.createDirectories(root.resolve("proc"));
        Files.createDirectories(root.resolve("dev"));
        List<String> entrypoint = new ArrayList<>();
        for (Object part : JsonValues.array(image.container().get("Entrypoint"))) {
            entrypoint.add((String) part);
        }
        String user = (String) image.container().get("User");
        List<String> env = new ArrayList<>();
        for (Object e : JsonValues.array(image.container().get("Env"))) {
            env.add((String) e);
        }

        // the container the image's own dev.mcpsecure.run label describes
        Map<String, Object> labels = JsonValues.object(image.container().get("Labels"));
        Container container = Container.of((String) labels.get(ContainerProfile.LABEL_RUN), dir.resolve("volumes"));
        assertThat(container.user()).isEqualTo(user);
        assertThat(container.readOnly()).isTrue();
        assertThat(container.tmpfs()).contains("/tmp");
        for (Map.Entry<String, Path> volume : container.volumes().entrySet()) {
            Files.createDirectories(volume.getValue());
            if (name.equals("git")) {
                assertThat(new ProcessBuilder("git", "-C", volume.getValue().toString(), "init", "-q")
                                .inheritIO()
                                .start()
                                .waitFor())
                        .isZero();
            }
            // owned by the server's user, as a host directory given to it is (git refuses another owner's repository)
            run(List.of("chown", "-R", user, volume.getValue().toString()));
        }
        Result version = runIn(root, container, env, List.of("java", "-version"), "", null);
        assertThat(version.code()).as(version.err()).isZero();
        assertThat(version.err()).contains("OpenJDK");
        Result settings =
                runIn(root, container, env, List.of("java", "-XshowSettings:properties", "-version"), "", null);
        assertThat(settings.err()).contains("user.name = nonroot");

        if (name.equals("git")) {
            Result git = runIn(root, container, env, List.of("git", "--version"), "", null);
            assertThat(git.code()).as(git.err()).isZero();
            assertThat(git.out()).startsWith("git version");
        }
        String requests = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                + "\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"image-it\",\"version\":\"1\"}}}\n"
                + "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n"
                + (name.equals("git")
                        ? "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"git_status\","
                                + "\"arguments\":{}}}\n"
                        : "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
                                + "\"not_a_tool\",\"arguments\":{}}}\n");
        Result server = runIn(root, container, env, entrypoint, requests, "\"id\":2,");
        assertThat(server.out()).as(server.err()).contains("\"serverInfo\":{\"name\":\"" + policyName(name) + "\"");
        // the audit records outlive the container: the profile mounts the audit file's directory
        Path audit = PolicyLoader.load(POLICIES.resolve(name + ".yaml"))
                .audit()
                .file()
                .orElseThrow();
        Path hostAudit = container.volumes().get(audit.getParent().toString());
        assertThat(hostAudit).as("the run label mounts %s", audit.getParent()).isNotNull();
        assertThat(Files.readString(hostAudit.resolve(audit.getFileName())))
                .as(server.err())
                .contains("\"kind\":\"call\"", name.equals("git") ? "\"tool\":\"git_status\"" : "TOOL_NOT_ALLOWED");
        if (name.equals("git")) {
            assertThat(server.out())
                    .as(server.err())
                    .contains("\"id\":2,\"result\"")
                    .contains("## ");
        }
    }

    private static String policyName(String name) throws IOException {
        return PolicyLoader.load(POLICIES.resolve(name + ".yaml")).server().name();
    }

    private static void assertRootReadOnly(Map<String, Node> files, String path, byte[] expected) {
        Node node = files.get(path);
        assertThat(node).as(path).isNotNull();
        assertThat(node.type()).as(path).isEqualTo('f');
        assertThat(node.data()).as(path).isEqualTo(expected);
        assertThat(node.mode() & 07777).as("mode of %s", path).isEqualTo(0444);
        assertThat(node.uid()).as(path).isZero();
        assertThat(node.gid()).as(path).isZero();
    }

    // ---------------------------------------------------------------- reading

    static Image read(Path tar) throws Exception {
        assertThat(tar).as("built by ImageBuild in pre-integration-test").isRegularFile();
        Map<String, byte[]> entries = new TreeMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(tar))) {
            for (TarArchiveEntry entry; (entry = in.getNextEntry()) != null; ) {
                if (entry.isFile()) {
                    entries.put(entry.getName(), in.readAllBytes());
                }
            }
        }
        for (Map.Entry<String, byte[]> entry : entries.entrySet()) {
            if (entry.getKey().startsWith("blobs/sha256/")) {
                assertThat("blobs/sha256/" + sha256(entry.getValue()))
                        .as("blob digest")
                        .isEqualTo(entry.getKey());
            }
        }
        List<Object> manifests = JsonValues.array(JsonValues.parse(text(entries.get("manifest.json"))));
        assertThat(manifests).hasSize(1);
        Map<String, Object> manifest = JsonValues.object(manifests.get(0));
        Map<String, Object> config =
                JsonValues.object(JsonValues.parse(text(entries.get((String) manifest.get("Config")))));
        List<Object> diffIds =
                JsonValues.array(JsonValues.object(config.get("rootfs")).get("diff_ids"));
        List<Object> layers = JsonValues.array(manifest.get("Layers"));
        assertThat(layers).hasSameSizeAs(diffIds);

        // the OCI index names a manifest with the same config and layers
        Map<String, Object> index = JsonValues.object(JsonValues.parse(text(entries.get("index.json"))));
        String ociDigest = (String)
                JsonValues.object(JsonValues.array(index.get("manifests")).get(0))
                        .get("digest");
        Map<String, Object> oci =
                JsonValues.object(JsonValues.parse(text(entries.get("blobs/sha256/" + ociDigest.substring(7)))));
        assertThat("blobs/sha256/"
                        + ((String) JsonValues.object(oci.get("config")).get("digest")).substring(7))
                .isEqualTo(manifest.get("Config"));

        Map<String, Node> files = new TreeMap<>();
        for (int i = 0; i < layers.size(); i++) {
            byte[] blob = entries.get((String) layers.get(i));
            assertThat("blobs/sha256/"
                            + ((String) JsonValues.object(JsonValues.array(oci.get("layers"))
                                                    .get(i))
                                            .get("digest"))
                                    .substring(7))
                    .isEqualTo(layers.get(i));
            byte[] layerTar;
            try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(blob))) {
                layerTar = in.readAllBytes();
            }
            assertThat("sha256:" + sha256(layerTar))
                    .as("diff_id of layer %d", i)
                    .isEqualTo(diffIds.get(i));
            try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(layerTar))) {
                for (TarArchiveEntry entry; (entry = in.getNextEntry()) != null; ) {
                    String name = entry.getName().replaceAll("/+$", "").replaceFirst("^\\./", "");
                    assertThat(name).as("whiteouts").doesNotContain(".wh.");
                    char type = entry.isDirectory() ? 'd' : entry.isSymbolicLink() ? 'l' : entry.isFile() ? 'f' : '?';
                    assertThat(type).as("type of %s", name).isNotEqualTo('?');
                    files.put(
                            name,
                            new Node(
                                    type,
                                    entry.getMode(),
                                    entry.getLongUserId(),
                                    entry.getLongGroupId(),
                                    type == 'f' ? in.readAllBytes() : null,
                                    entry.getLinkName()));
                }
            }
        }
        List<String> tags = new ArrayList<>();
        for (Object tag : JsonValues.array(manifest.get("RepoTags"))) {
            tags.add((String) tag);
        }
        return new Image(config, files, tags);
    }

    private static void extract(Map<String, Node> files, Path root) throws Exception {
        Files.createDirectories(root);
        Map<Path, Integer> dirModes = new LinkedHashMap<>();
        for (Map.Entry<String, Node> file : files.entrySet()) {
            Path path = root.resolve(file.getKey());
            Node node = file.getValue();
            Files.createDirectories(path.getParent());
            switch (node.type()) {
                case 'd' -> {
                    Files.createDirectories(path);
                    dirModes.put(path, node.mode());
                }
                case 'l' -> Files.createSymbolicLink(path, Path.of(node.link()));
                default -> {
                    try (OutputStream out = Files.newOutputStream(path)) {
                        out.write(node.data());
                    }
                    Files.setPosixFilePermissions(path, permissions(node.mode()));
                }
            }
        }
        for (Map.Entry<Path, Integer> dir : dirModes.entrySet()) {
            Files.setPosixFilePermissions(dir.getKey(), permissions(dir.getValue()));
            if ((dir.getValue() & 01000) != 0) {
                run(List.of("chmod", "+t", dir.getKey().toString()));
            }
        }
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> permissions = EnumSet.noneOf(PosixFilePermission.class);
        for (PosixFilePermission permission : PosixFilePermission.values()) {
            if ((mode & (1 << (8 - permission.ordinal()))) != 0) {
                permissions.add(permission);
            }
        }
        return permissions;
    }

    record Result(int code, String out, String err) {}

    /**
     * What a {@code dev.mcpsecure.run} label asks of the container: its user, a read-only root,
     * tmpfs mounts, bind mounts (container path to the host directory standing in for it, here
     * under {@code hostVolumes}), and whether it has no network. The other flags (capabilities,
     * limits) a chroot cannot show.
     */
    record Container(
            String user,
            boolean readOnly,
            List<String> tmpfs,
            Map<String, Path> volumes,
            Set<String> readOnlyVolumes,
            boolean noNetwork) {
        static Container of(String label, Path hostVolumes) {
            String user = null;
            boolean readOnly = false;
            boolean noNetwork = false;
            List<String> tmpfs = new ArrayList<>();
            Map<String, Path> volumes = new LinkedHashMap<>();
            Set<String> readOnlyVolumes = new java.util.TreeSet<>();
            String[] flags = label.split(" ");
            for (int i = 0; i < flags.length; i++) {
                switch (flags[i]) {
                    case "--read-only" -> readOnly = true;
                    case "-i" -> {}
                    case "--tmpfs" -> tmpfs.add(flags[++i]);
                    case "--user" -> user = flags[++i];
                    case "--network" -> noNetwork = flags[++i].equals("none");
                    case "-v" -> {
                        String[] parts = flags[++i].split(":");
                        assertThat(parts[0])
                                .as("a -v of the label mounts the same path")
                                .isEqualTo(parts[1]);
                        volumes.put(parts[1], hostVolumes.resolve(parts[0].substring(1)));
                        if (parts.length == 3 && parts[2].equals("ro")) {
                            readOnlyVolumes.add(parts[1]);
                        }
                    }
                    case "--cap-drop", "--security-opt", "--memory", "--cpus", "--pids-limit" -> i++;
                    default -> throw new AssertionError("a flag ImageIT does not know: " + flags[i]);
                }
            }
            return new Container(user, readOnly, tmpfs, volumes, readOnlyVolumes, noNetwork);
        }
    }

    /**
     * Runs {@code command} in the image's {@code root} as the container would: new mount and PID
     * (and, with no network, network) namespaces, its own /proc, the host's /dev, the root
     * read-only, tmpfs and bind mounts as the label says, then chroot as the user with exactly
     * {@code env}.
     */
    private static Result runIn(
            Path root, Container container, List<String> env, List<String> command, String stdin, String until)
            throws Exception {
        StringBuilder script = new StringBuilder("set -e; R=" + quote(root.toString()) + "\n")
                .append("mount --rbind /dev \"$R/dev\"\n");
        if (container.readOnly()) {
            script.append("mount --rbind \"$R\" \"$R\"\nmount -o remount,bind,ro \"$R\"\n");
        }
        for (String tmpfs : container.tmpfs()) {
            script.append("mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs \"$R\"")
                    .append(quote(tmpfs))
                    .append('\n');
        }
        for (Map.Entry<String, Path> volume : container.volumes().entrySet()) {
            String target = "\"$R\"" + quote(volume.getKey());
            script.append("mkdir -p ").append(target).append('\n');
            script.append("mount --bind ")
                    .append(quote(volume.getValue().toString()))
                    .append(' ')
                    .append(target)
                    .append('\n');
            if (container.readOnlyVolumes().contains(volume.getKey())) {
                script.append("mount -o remount,bind,ro ").append(target).append('\n');
            }
        }
        script.append("exec env -i \"$@\"\n");
        List<String> line = new ArrayList<>(List.of("/usr/bin/unshare", "--mount", "--pid", "--fork"));
        if (container.noNetwork()) {
            line.add("--net");
        }
        line.addAll(List.of("--mount-proc=" + root.resolve("proc"), "/bin/sh", "-c", script.toString(), "sh"));
        line.addAll(env);
        line.addAll(List.of("/usr/sbin/chroot", "--userspec=" + container.user(), root.toString()));
        line.addAll(command);
        return run(line, stdin, until);
    }

    private static String quote(String text) {
        return "'" + text.replace("'", "'\\''") + "'";
    }

    private static Result run(List<String> command) throws Exception {
        Result result = run(command, "", null);
        assertThat(result.code())
                .as(String.join(" ", command) + ": " + result.err())
                .isZero();
        return result;
    }

    /**
     * Runs {@code command} with {@code stdin}; stdin stays open until a line of stdout contains
     * {@code until} (the answer to the last request: the server stops when stdin closes), or 60 s.
     */
    private static Result run(List<String> command, String stdin, String until) throws Exception {
        Process process = new ProcessBuilder(command).start();
        OutputStream in = process.getOutputStream();
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
        in.flush();
        if (until == null) {
            in.close();
        }
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        Thread errReader = new Thread(() -> {
            try {
                process.getErrorStream().transferTo(err);
            } catch (IOException ignored) {
                // the exit code tells
            }
        });
        errReader.start();
        Thread deadline = new Thread(() -> {
            try {
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException ignored) {
                // the test ended
            }
        });
        deadline.setDaemon(true);
        deadline.start();
        StringBuilder out = new StringBuilder();
        try (java.io.BufferedReader lines = new java.io.BufferedReader(
                new java.io.InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = lines.readLine()) != null; ) {
                out.append(line).append('\n');
                if (until != null && line.contains(until)) {
                    in.close();
                }
            }
        }
        assertThat(process.waitFor(60, TimeUnit.SECONDS))
                .as("%s finished", command)
                .isTrue();
        errReader.join();
        return new Result(process.exitValue(), out.toString(), err.toString(StandardCharsets.UTF_8));
    }

    private static String text(byte[] data) {
        assertThat(data).isNotNull();
        return new String(data, StandardCharsets.UTF_8);
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
