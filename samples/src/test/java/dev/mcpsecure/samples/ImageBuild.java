package dev.mcpsecure.samples;

import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.core.ContainerProfile;
import dev.mcpsecure.core.PolicyLoader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Builds an OCI image tarball per sample server ({@code target/images/<name>.tar}, the layout
 * {@code docker save} writes, so {@code docker load} reads it) without a container engine or
 * registry. The image configuration is {@link ContainerProfile#image} of the server's policy, so it
 * cannot drift from the profile.
 *
 * <p>Layers, each a deterministic tar (sorted entries, owner 0:0 unless said, fixed times):
 *
 * <ol>
 *   <li>base: a distroless-like root: {@code /etc/passwd} and {@code /etc/group} with root and
 *       {@code nonroot} (65532; home {@code /nonexistent} and login shell {@code /sbin/nologin}, neither
 *       exists: nothing for the server to read there, no shell to log in to), the
 *       merged-/usr symlinks, and only the shared libraries of the Debian packages the JRE needs
 *       (libc6, libgcc-s1, libstdc++6, zlib1g). No shell, no package manager, no other program.
 *   <li>jre: a Java runtime made by {@code jlink} from the building JDK at {@code /opt/java}.
 *   <li>git (git image only): {@code /usr/bin/git} and libpcre2; not perl, not the shell scripts
 *       of git-core.
 *   <li>lib: the module's jar and its runtime dependencies in {@code /app/lib}, read-only.
 *   <li>app: the policy at {@code /app/policy.yaml}, its lockfile beside it, and the SBOM: owned by
 *       root, mode 0444.
 * </ol>
 *
 * <p>The Debian files are copied from the build machine's installed packages, each checked against
 * the package's md5sums in dpkg's database, rather than downloaded: it needs no network and no
 * root, it cannot break when Debian's pool drops a superseded version, and the libraries are the
 * very ones the JDK that jlink copies was built and tested against. The SBOM records the installed
 * versions.
 *
 * <p>Run by the build ({@code exec:java} in {@code pre-integration-test}, skipped with {@code
 * -DskipITs}): {@code ImageBuild <samples dir> <module jar> <version>}. The revision label is
 * {@code git rev-parse HEAD}; outside a git checkout the build fails unless {@code
 * -Dimages.revision=<commit>} names it.
 */
public final class ImageBuild {

    /** The project's source, for the {@code org.opencontainers.image.source} label. */
    static final String SOURCE = "https://github.com/mcp-secure/mcp-secure";

    static final String JAVA_HOME = "/opt/java";
    static final List<String> ENV = List.of("PATH=" + JAVA_HOME + "/bin:/usr/bin:/bin", "LANG=C.UTF-8");

    /** Debian packages whose shared libraries the JRE needs (ldd of the jlinked runtime). */
    static final List<String> BASE_PACKAGES = List.of("libc6", "libgcc-s1", "libstdc++6", "zlib1g");
    /** What git needs beyond the base: its binary (ldd: libpcre2-8, libz, libc). */
    static final List<String> GIT_PACKAGES = List.of("git", "libpcre2-8-0");

    /** Modules jdeps cannot see because they are found by service lookup: the TLS key exchanges. */
    static final List<String> EXTRA_MODULES = List.of("jdk.crypto.ec");

    /** A sample server and its image. */
    record Server(String name, String mainClass, String policy, boolean git) {}

    /**
     * A deliberately bad image for VerifyImageIT, next to the good ones: the {@link #BAD_FROM}
     * image running as root, with a shell and busybox added in one more layer.
     */
    static final String BAD = "bad-root-shell.tar";

    static final String BAD_FROM = "demo";

    static final List<Server> SERVERS = List.of(
            new Server("demo", "dev.mcpsecure.samples.DemoServer", "demo.yaml", false),
            new Server("filesystem", "dev.mcpsecure.samples.FilesystemServer", "filesystem.yaml", false),
            new Server("git", "dev.mcpsecure.samples.GitServer", "git.yaml", true),
            new Server("http-api", "dev.mcpsecure.samples.HttpApiServer", "http-api.yaml", false));

    /** One file, directory or symlink of a layer. */
    record Entry(String path, char type, int mode, int owner, byte[] data, String link) {
        static Entry file(String path, int mode, byte[] data) {
            return new Entry(path, 'f', mode, 0, data, null);
        }

        static Entry dir(String path, int mode) {
            return new Entry(path, 'd', mode, 0, null, null);
        }

        static Entry symlink(String path, String target) {
            return new Entry(path, 'l', 0777, 0, null, target);
        }
    }

    /** A layer: what made it, the digest of its tar ({@code diff_id}) and of its gzip blob. */
    record Layer(String createdBy, String diffId, String digest, byte[] blob) {}

    /** An installed Debian package. */
    record Deb(String name, String version, String arch) {
        String purl(String distro) {
            return "pkg:deb/debian/" + name + "@" + version.replace(":", "%3A").replace("+", "%2B") + "?arch=" + arch
                    + "&distro=" + distro;
        }
    }

    private static final Pattern LIBRARY = Pattern.compile("usr/lib(64)?/(x86_64-linux-gnu/)?[^/]*\\.so[^/]*");
    private static final int BLOB_MODE = 0644;

    private final Path samples;
    private final Path target;
    private final Path cache;
    private final String distro;
    private final Map<String, Deb> debs = new TreeMap<>();

    private ImageBuild(Path samples) throws IOException {
        this.samples = samples;
        this.target = samples.resolve("target");
        this.cache = target.resolve("image-cache");
        this.distro = distro();
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            throw new IllegalArgumentException("usage: ImageBuild <samples dir> <module jar> <version>");
        }
        if (!System.getProperty("os.arch").equals("amd64")) {
            // the library paths (x86_64-linux-gnu) and the config's architecture are amd64's
            throw new IllegalStateException("the sample images are built for amd64 only; this JDK runs on "
                    + System.getProperty("os.arch") + ": build them on an amd64 machine or skip them with -DskipITs");
        }
        long start = System.nanoTime();
        ImageBuild build = new ImageBuild(Path.of(args[0]).toAbsolutePath());
        build.buildAll(Path.of(args[1]), args[2]);
        System.err.printf("[images] built %d images in %.1f s%n", SERVERS.size(), (System.nanoTime() - start) / 1e9);
    }

    private void buildAll(Path moduleJar, String version) throws Exception {
        String revision = revision();
        List<Path> jars = jars(moduleJar);
        List<String> modules = modules(jars);
        Path jre = jlink(modules);
        Layer base = layer("base: Debian " + BASE_PACKAGES + " libraries, passwd, group", baseEntries());
        Layer runtime = layer("jre: jlink " + String.join(",", modules), tree(jre, JAVA_HOME.substring(1)));
        Layer git = layer("git: /usr/bin/git and libpcre2", gitEntries());
        List<Entry> libEntries = new ArrayList<>(List.of(Entry.dir("app", 0555), Entry.dir("app/lib", 0555)));
        for (Path jar : jars) {
            libEntries.add(Entry.file("app/lib/" + jar.getFileName(), 0444, Files.readAllBytes(jar)));
        }
        Layer lib = layer("lib: " + jars.size() + " jars", libEntries);
        Map<String, Object> mavenBom = mavenBom(jars);
        Path out = target.resolve("images");
        Files.createDirectories(out);
        for (Server server : SERVERS) {
            Path policyFile = samples.resolve("policies").resolve(server.policy());
            SecurityPolicy policy = PolicyLoader.load(policyFile);
            Path lock = policy.pinning()
                    .lockfile()
                    .orElseThrow(() -> new IllegalStateException(policyFile + " names no lockfile"));
            if (!lock.getParent().equals(policyFile.toAbsolutePath().normalize().getParent())) {
                throw new IllegalStateException("the lockfile " + lock + " of " + policyFile
                        + " is not beside it: the image keeps it beside /app/policy.yaml");
            }
            if (policy.pinning().signature().isPresent()) {
                throw new IllegalStateException(policyFile + " names a signature key, which the images do not carry");
            }
            String sbom = sbom(mavenBom, server, modules);
            List<Entry> app = List.of(
                    Entry.dir("app", 0555),
                    Entry.file(ContainerProfile.IMAGE_POLICY.substring(1), 0444, Files.readAllBytes(policyFile)),
                    Entry.file("app/" + lock.getFileName(), 0444, Files.readAllBytes(lock)),
                    Entry.file(ContainerProfile.IMAGE_SBOM.substring(1), 0444, sbom.getBytes(StandardCharsets.UTF_8)));
            List<Layer> layers = new ArrayList<>(List.of(base, runtime));
            if (server.git()) {
                layers.add(git);
            }
            layers.add(lib);
            layers.add(layer("app: policy, lockfile, SBOM", app));
            Map<String, String> labels = new TreeMap<>(
                    ContainerProfile.image(policy, server.mainClass()).labels());
            labels.put("org.opencontainers.image.source", SOURCE);
            labels.put("org.opencontainers.image.revision", revision);
            labels.put("org.opencontainers.image.title", policy.server().name());
            byte[] config = config(ContainerProfile.image(policy, server.mainClass()), labels, layers);
            Path tar = out.resolve(server.name() + ".tar");
            writeImage(tar, "mcp-secure/" + server.name() + ":" + version, config, layers);
            System.err.printf("[images] %s: %,d bytes%n", target.relativize(tar), Files.size(tar));
            if (server.name().equals(BAD_FROM)) {
                writeBad(out.resolve(BAD), policy, server, labels, layers, version);
            }
        }
    }

    private void writeBad(
            Path tar,
            SecurityPolicy policy,
            Server server,
            Map<String, String> labels,
            List<Layer> layers,
            String version)
            throws IOException {
        List<Layer> bad = new ArrayList<>(layers);
        bad.add(layer(
                "deliberately bad: a shell and busybox",
                List.of(
                        Entry.file("usr/bin/sh", 0755, "not a real shell\n".getBytes(StandardCharsets.US_ASCII)),
                        Entry.symlink("usr/bin/busybox", "sh"))));
        ContainerProfile.Image good = ContainerProfile.image(policy, server.mainClass());
        ContainerProfile.Image root =
                new ContainerProfile.Image("0:0", good.entrypoint(), good.labels(), good.volumes());
        writeImage(tar, "mcp-secure/bad-root-shell:" + version, config(root, labels, bad), bad);
    }

    // ---------------------------------------------------------------- inputs

    private String revision() throws IOException, InterruptedException {
        String given = System.getProperty("images.revision");
        if (given != null && !given.isBlank()) {
            return given.strip();
        }
        Run run = run(List.of("git", "-C", samples.toString(), "rev-parse", "HEAD"));
        String head = run.out.strip();
        if (run.code != 0 || !head.matches("[0-9a-f]{40}")) {
            throw new IllegalStateException(
                    "cannot read the git commit for the images' revision label (git rev-parse HEAD: " + run.err.strip()
                            + "); build from a git checkout or give -Dimages.revision=<commit>");
        }
        return head;
    }

    private List<Path> jars(Path moduleJar) throws IOException {
        List<Path> jars = new ArrayList<>();
        jars.add(moduleJar.toAbsolutePath());
        try (Stream<Path> files = Files.list(target.resolve("image-lib"))) {
            files.filter(p -> p.toString().endsWith(".jar")).sorted().forEach(jars::add);
        }
        Set<String> names = new TreeSet<>();
        for (Path jar : jars) {
            if (!names.add(jar.getFileName().toString())) {
                throw new IllegalStateException("two jars named " + jar.getFileName() + " for /app/lib");
            }
        }
        return jars;
    }

    /**
     * The Maven part of the SBOM, checked to name each jar of /app/lib: {@code makeBom} does not
     * run offline ({@code -o}), and a BOM left from an earlier build must not describe other jars.
     */
    private Map<String, Object> mavenBom(List<Path> jars) throws IOException {
        Path file = target.resolve("image-bom.json");
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException(file + " is missing: cyclonedx:makeBom writes it in package, and only"
                    + " online; build once without -o");
        }
        Map<String, Object> bom = JsonValues.object(JsonValues.parse(Files.readString(file)));
        Set<String> described = new TreeSet<>();
        Map<String, Object> module =
                JsonValues.object(JsonValues.object(bom.get("metadata")).get("component"));
        described.add(module.get("name") + "-" + module.get("version") + ".jar");
        for (Object component : JsonValues.array(bom.get("components"))) {
            Map<String, Object> c = JsonValues.object(component);
            described.add(c.get("name") + "-" + c.get("version") + ".jar");
        }
        for (Path jar : jars) {
            if (!described.contains(jar.getFileName().toString())) {
                throw new IllegalStateException(file + " does not describe " + jar.getFileName()
                        + ": it or target/image-lib is left from an earlier build (cyclonedx:makeBom does not run"
                        + " offline; a dropped dependency's jar stays in image-lib): clean, and build once without -o");
            }
        }
        return bom;
    }

    /** The JDK modules the jars need: jdeps over them as modules, plus {@link #EXTRA_MODULES}. */
    private List<String> modules(List<Path> jars) throws IOException {
        MessageDigest content = messageDigest("SHA-256");
        for (Path jar : jars) {
            content.update(jar.getFileName().toString().getBytes(StandardCharsets.UTF_8));
            content.update(Files.readAllBytes(jar));
        }
        content.update(Runtime.version().toString().getBytes(StandardCharsets.UTF_8));
        Path cached = cache.resolve(
                "modules-" + HexFormat.of().formatHex(content.digest()).substring(0, 16) + ".txt");
        if (Files.isRegularFile(cached)) {
            return List.of(Files.readString(cached).strip().split(","));
        }
        StringBuilder path = new StringBuilder();
        for (Path jar : jars) {
            path.append(path.length() == 0 ? "" : java.io.File.pathSeparator).append(jar);
        }
        String printed = tool(
                        "jdeps",
                        "--print-module-deps",
                        "--ignore-missing-deps",
                        "--multi-release",
                        String.valueOf(Runtime.version().feature()),
                        "--module-path",
                        path.toString(),
                        "--add-modules",
                        "ALL-MODULE-PATH")
                .strip();
        if (!printed.matches("[a-z0-9.]+(,[a-z0-9.]+)*")) {
            throw new IllegalStateException("jdeps printed no module list: " + printed);
        }
        Set<String> modules = new TreeSet<>(List.of(printed.split(",")));
        modules.addAll(EXTRA_MODULES);
        Files.createDirectories(cache);
        Files.writeString(cached, String.join(",", modules) + "\n");
        return List.copyOf(modules);
    }

    /** A jlinked runtime, cached under target by its modules and the JDK that made it. */
    private Path jlink(List<String> modules) throws IOException {
        String key = sha256(
                        (String.join(",", modules) + "|" + System.getProperty("java.home") + "|" + Runtime.version())
                                .getBytes(StandardCharsets.UTF_8))
                .substring(0, 16);
        Path jre = cache.resolve("jre-" + key);
        if (Files.isRegularFile(jre.resolve("release"))) {
            return jre;
        }
        Path work = cache.resolve("jre-" + key + ".partial");
        deleteTree(work);
        Files.createDirectories(cache);
        tool(
                "jlink",
                "--add-modules",
                String.join(",", modules),
                "--strip-debug",
                "--no-header-files",
                "--no-man-pages",
                "--output",
                work.toString());
        Files.move(work, jre, StandardCopyOption.ATOMIC_MOVE);
        return jre;
    }

    private static String tool(String name, String... args) {
        ToolProvider tool = ToolProvider.findFirst(name)
                .orElseThrow(() -> new IllegalStateException(name + " not found: the images need a full JDK ("
                        + System.getProperty("java.home") + " has no " + name + "); run Maven with a JDK 17"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = tool.run(new PrintWriter(out), new PrintWriter(err), args);
        if (code != 0) {
            throw new IllegalStateException(name + " " + String.join(" ", args) + " exited " + code + ": " + err + out);
        }
        return out.toString();
    }

    private List<Entry> baseEntries() throws IOException, InterruptedException {
        List<Entry> entries = new ArrayList<>();
        for (String dir : List.of("etc", "usr", "usr/bin", "usr/lib", "usr/lib64", "usr/sbin", "opt")) {
            entries.add(Entry.dir(dir, 0755));
        }
        for (String merged : List.of("bin", "lib", "lib64", "sbin")) {
            entries.add(Entry.symlink(merged, "usr/" + merged));
        }
        entries.add(Entry.dir("root", 0700));
        entries.add(Entry.dir("tmp", 01777));
        entries.add(Entry.file(
                "etc/passwd",
                0644,
                ("root:x:0:0:root:/root:/sbin/nologin\n" + "nonroot:x:" + ContainerProfile.UID + ":"
                                + ContainerProfile.UID + ":nonroot:/nonexistent:/sbin/nologin\n")
                        .getBytes(StandardCharsets.US_ASCII)));
        entries.add(Entry.file(
                "etc/group",
                0644,
                ("root:x:0:\nnonroot:x:" + ContainerProfile.UID + ":\n").getBytes(StandardCharsets.US_ASCII)));
        for (String pkg : BASE_PACKAGES) {
            entries.addAll(debFiles(pkg, path -> LIBRARY.matcher(path).matches()));
        }
        return entries;
    }

    private List<Entry> gitEntries() throws IOException, InterruptedException {
        List<Entry> entries = new ArrayList<>(debFiles("git", "usr/bin/git"::equals));
        entries.addAll(debFiles("libpcre2-8-0", path -> LIBRARY.matcher(path).matches()));
        return entries;
    }

    /**
     * The files of an installed package whose image path {@code keep} accepts, each regular file
     * checked against the package's md5sums; the package's /lib, /bin, /sbin paths are mapped to
     * /usr (merged /usr, as the image's symlinks say).
     */
    private List<Entry> debFiles(String pkg, Predicate<String> keep) throws IOException, InterruptedException {
        Run query = run(
                List.of("dpkg-query", "-W", "-f=${Package}\t${Version}\t${Architecture}\t${db:Status-Status}", pkg));
        String[] fields = query.out.strip().split("\t");
        if (query.code != 0 || fields.length != 4 || !fields[3].equals("installed")) {
            throw new IllegalStateException("Debian package " + pkg + " is not installed (" + query.err.strip()
                    + "): the images' base is copied from this machine's packages; apt-get install " + pkg);
        }
        Deb deb = new Deb(fields[0], fields[1], fields[2]);
        debs.put(pkg, deb);
        Path info = Path.of("/var/lib/dpkg/info");
        Path md5file = info.resolve(pkg + ":" + deb.arch() + ".md5sums");
        if (!Files.exists(md5file)) {
            md5file = info.resolve(pkg + ".md5sums");
        }
        Map<String, String> md5 = new TreeMap<>();
        for (String line : Files.readAllLines(md5file)) {
            md5.put(line.substring(34), line.substring(0, 32));
        }
        Run list = run(List.of("dpkg-query", "-L", pkg));
        if (list.code != 0) {
            throw new IllegalStateException("dpkg-query -L " + pkg + ": " + list.err);
        }
        List<Entry> entries = new ArrayList<>();
        for (String listed : list.out.split("\n")) {
            if (!listed.startsWith("/") || listed.equals("/.")) {
                continue;
            }
            String path = merged(listed.substring(1));
            if (!keep.test(path)) {
                continue;
            }
            Path host = Path.of(listed);
            if (Files.isSymbolicLink(host)) {
                entries.add(Entry.symlink(path, Files.readSymbolicLink(host).toString()));
            } else if (Files.isRegularFile(host)) {
                byte[] data = Files.readAllBytes(host);
                String expected = md5.get(listed.substring(1));
                if (expected == null || !expected.equals(digest("MD5", data))) {
                    throw new IllegalStateException(listed + " differs from package " + pkg + " " + deb.version()
                            + " (md5sums): reinstall it (apt-get install --reinstall " + pkg + ")");
                }
                entries.add(Entry.file(path, mode(host), data));
            }
        }
        if (entries.isEmpty()) {
            throw new IllegalStateException("no files taken from package " + pkg);
        }
        return entries;
    }

    private static String merged(String path) {
        for (String dir : List.of("lib/", "lib64/", "bin/", "sbin/")) {
            if (path.startsWith(dir)) {
                return "usr/" + path;
            }
        }
        return path;
    }

    /** The entries of a directory tree, under {@code prefix}, owned by root with its modes. */
    private static List<Entry> tree(Path root, String prefix) throws IOException {
        List<Entry> entries = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted()::iterator) {
                String rel = root.relativize(p).toString();
                String path = rel.isEmpty() ? prefix : prefix + "/" + rel;
                if (Files.isSymbolicLink(p)) {
                    entries.add(Entry.symlink(path, Files.readSymbolicLink(p).toString()));
                } else if (Files.isDirectory(p)) {
                    entries.add(Entry.dir(path, 0755));
                } else {
                    entries.add(Entry.file(path, mode(p) & 0755, Files.readAllBytes(p)));
                }
            }
        }
        return entries;
    }

    private static String distro() throws IOException {
        for (String line : Files.readAllLines(Path.of("/etc/os-release"))) {
            if (line.startsWith("VERSION_ID=")) {
                return "debian-" + line.substring(11).replace("\"", "");
            }
        }
        throw new IllegalStateException("/etc/os-release names no VERSION_ID");
    }

    // ---------------------------------------------------------------- SBOM and config

    private String sbom(Map<String, Object> mavenBom, Server server, List<String> modules)
            throws IOException, InterruptedException {
        Map<String, Object> bom = JsonValues.object(JsonValues.parse(JsonValues.write(mavenBom)));
        Map<String, Object> metadata = JsonValues.object(bom.get("metadata"));
        metadata.remove("timestamp"); // reproducible: the same inputs give the same image
        metadata.put("properties", List.of(property("dev.mcpsecure:image", "mcp-secure/" + server.name())));
        List<Object> components = JsonValues.array(bom.computeIfAbsent("components", k -> new ArrayList<>()));
        List<String> packages = new ArrayList<>(BASE_PACKAGES);
        if (server.git()) {
            packages.addAll(GIT_PACKAGES);
        }
        for (String pkg : packages) {
            Deb deb = debs.get(pkg);
            Map<String, Object> component = new LinkedHashMap<>();
            component.put("type", pkg.equals("git") ? "application" : "library");
            component.put("bom-ref", deb.purl(distro));
            component.put("name", deb.name());
            component.put("version", deb.version());
            component.put("purl", deb.purl(distro));
            component.put(
                    "properties",
                    List.of(property(
                            "dev.mcpsecure:image-layer",
                            pkg.equals("git") || pkg.startsWith("libpcre") ? "git" : "base")));
            components.add(component);
        }
        Map<String, Object> jre = new LinkedHashMap<>();
        jre.put("type", "platform");
        String javaHome = System.getProperty("java.home");
        Run owner = run(List.of(
                "dpkg-query", "-S", Path.of(javaHome, "jmods", "java.base.jmod").toString()));
        String purl;
        if (owner.code == 0) {
            String pkg = owner.out.substring(0, owner.out.indexOf(':'));
            Run version = run(List.of("dpkg-query", "-W", "-f=${Version}\t${Architecture}", pkg));
            String[] v = version.out.strip().split("\t");
            purl = new Deb(pkg, v[0], v[1]).purl(distro);
        } else {
            purl = "pkg:generic/" + System.getProperty("java.vendor").replaceAll("[^A-Za-z0-9.-]", "-") + "-jdk@"
                    + Runtime.version();
        }
        jre.put("bom-ref", "jre:" + JAVA_HOME);
        jre.put("name", "java-runtime (jlink)");
        jre.put("version", Runtime.version().toString());
        jre.put(
                "description",
                "jlink --strip-debug --no-header-files --no-man-pages of " + javaHome + " at " + JAVA_HOME);
        jre.put("pedigree", ordered("ancestors", List.of(ordered("type", "platform", "name", "jdk", "purl", purl))));
        jre.put("properties", List.of(property("dev.mcpsecure:jlink-modules", String.join(",", modules))));
        components.add(jre);
        return JsonValues.write(bom) + "\n";
    }

    /**
     * A JSON object with the given names and values in that order: Map.of iterates in an order
     * that changes between JVM runs, and the images must come out byte for byte the same.
     */
    private static Map<String, Object> ordered(Object... namesAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            map.put((String) namesAndValues[i], namesAndValues[i + 1]);
        }
        return map;
    }

    private static Map<String, Object> property(String name, String value) {
        Map<String, Object> property = new LinkedHashMap<>();
        property.put("name", name);
        property.put("value", value);
        return property;
    }

    private static byte[] config(ContainerProfile.Image image, Map<String, String> labels, List<Layer> layers) {
        Map<String, Object> container = new LinkedHashMap<>();
        container.put("User", image.user());
        container.put("Env", ENV);
        container.put("Entrypoint", image.entrypoint());
        container.put("Labels", labels);
        Map<String, Object> volumes = new TreeMap<>();
        for (String volume : image.volumes()) {
            volumes.put(volume, Map.of());
        }
        container.put("Volumes", volumes);
        List<Object> diffIds = new ArrayList<>();
        List<Object> history = new ArrayList<>();
        for (Layer layer : layers) {
            diffIds.add(layer.diffId());
            history.add(ordered("created", "1970-01-01T00:00:00Z", "created_by", layer.createdBy()));
        }
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architecture", "amd64");
        config.put("os", "linux");
        config.put("created", "1970-01-01T00:00:00Z");
        config.put("config", container);
        config.put("rootfs", ordered("type", "layers", "diff_ids", diffIds));
        config.put("history", history);
        return JsonValues.write(config).getBytes(StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- tar writing

    /**
     * A layer of {@code entries} (parents added as root 0755 directories), its gzip blob reused
     * from the cache when a layer of the same tar was compressed before.
     */
    private Layer layer(String createdBy, List<Entry> entries) throws IOException {
        Map<String, Entry> sorted = new TreeMap<>();
        for (Entry entry : entries) {
            Entry old = sorted.put(entry.path(), entry);
            if (old != null && !(old.type() == 'd' && entry.type() == 'd')) {
                throw new IllegalStateException("two entries for " + entry.path());
            }
            for (int slash = entry.path().indexOf('/');
                    slash > 0;
                    slash = entry.path().indexOf('/', slash + 1)) {
                sorted.putIfAbsent(
                        entry.path().substring(0, slash), Entry.dir(entry.path().substring(0, slash), 0755));
            }
        }
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = tarStream(tar)) {
            for (Entry entry : sorted.values()) {
                TarArchiveEntry header;
                switch (entry.type()) {
                    case 'd' -> header = new TarArchiveEntry(entry.path() + "/", TarConstants.LF_DIR);
                    case 'l' -> {
                        header = new TarArchiveEntry(entry.path(), TarConstants.LF_SYMLINK);
                        header.setLinkName(entry.link());
                    }
                    default -> {
                        header = new TarArchiveEntry(entry.path(), TarConstants.LF_NORMAL);
                        header.setSize(entry.data().length);
                    }
                }
                header.setMode(entry.mode());
                header.setIds(entry.owner(), entry.owner());
                header.setNames(entry.owner() == 0 ? "root" : "nonroot", entry.owner() == 0 ? "root" : "nonroot");
                header.setModTime(0);
                out.putArchiveEntry(header);
                if (entry.type() == 'f') {
                    out.write(entry.data());
                }
                out.closeArchiveEntry();
            }
        }
        byte[] bytes = tar.toByteArray();
        String diffId = "sha256:" + sha256(bytes);
        Path cached = cache.resolve("layers").resolve(diffId.substring(7) + ".tar.gz");
        byte[] blob = null;
        if (Files.isRegularFile(cached)) {
            blob = Files.readAllBytes(cached);
            if (!ungzipDigest(blob).equals(diffId)) {
                blob = null; // a damaged cache entry: compress again
            }
        }
        if (blob == null) {
            ByteArrayOutputStream gz = new ByteArrayOutputStream();
            try (GZIPOutputStream out = new GZIPOutputStream(gz, 1 << 16)) {
                out.write(bytes);
            }
            blob = gz.toByteArray();
            Files.createDirectories(cached.getParent());
            Path partial = cached.resolveSibling(cached.getFileName() + ".partial");
            Files.write(partial, blob);
            Files.move(partial, cached, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        return new Layer(createdBy, diffId, "sha256:" + sha256(blob), blob);
    }

    private static String ungzipDigest(byte[] blob) throws IOException {
        MessageDigest sha = messageDigest("SHA-256");
        try (InputStream in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(blob))) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                sha.update(buffer, 0, n);
            }
        }
        return "sha256:" + HexFormat.of().formatHex(sha.digest());
    }

    /**
     * The image tarball: an OCI image layout ({@code oci-layout}, {@code index.json}, {@code
     * blobs/sha256/}) that is also what {@code docker save} writes ({@code manifest.json}), so
     * {@code docker load} and OCI tools both read it.
     */
    private static void writeImage(Path tar, String tag, byte[] config, List<Layer> layers) throws IOException {
        String configDigest = "sha256:" + sha256(config);
        List<Object> layerDescriptors = new ArrayList<>();
        List<Object> layerPaths = new ArrayList<>();
        for (Layer layer : layers) {
            layerDescriptors.add(
                    descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layer.digest(), layer.blob().length));
            layerPaths.add(blobPath(layer.digest()));
        }
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("schemaVersion", 2L);
        manifest.put("mediaType", "application/vnd.oci.image.manifest.v1+json");
        manifest.put("config", descriptor("application/vnd.oci.image.config.v1+json", configDigest, config.length));
        manifest.put("layers", layerDescriptors);
        byte[] manifestBytes = JsonValues.write(manifest).getBytes(StandardCharsets.UTF_8);
        String manifestDigest = "sha256:" + sha256(manifestBytes);
        Map<String, Object> indexed =
                descriptor("application/vnd.oci.image.manifest.v1+json", manifestDigest, manifestBytes.length);
        indexed.put(
                "annotations",
                ordered(
                        "io.containerd.image.name",
                        "docker.io/" + tag,
                        "org.opencontainers.image.ref.name",
                        tag.substring(tag.indexOf(':') + 1)));
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("schemaVersion", 2L);
        index.put("mediaType", "application/vnd.oci.image.index.v1+json");
        index.put("manifests", List.of(indexed));
        Map<String, Object> dockerManifest = new LinkedHashMap<>();
        dockerManifest.put("Config", blobPath(configDigest));
        dockerManifest.put("RepoTags", List.of(tag));
        dockerManifest.put("Layers", layerPaths);

        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
        files.put("index.json", JsonValues.write(index).getBytes(StandardCharsets.UTF_8));
        files.put("manifest.json", JsonValues.write(List.of(dockerManifest)).getBytes(StandardCharsets.UTF_8));
        files.put(blobPath(manifestDigest), manifestBytes);
        files.put(blobPath(configDigest), config);
        for (Layer layer : layers) {
            files.put(blobPath(layer.digest()), layer.blob());
        }
        Path partial = tar.resolveSibling(tar.getFileName() + ".partial");
        try (OutputStream file = Files.newOutputStream(partial);
                TarArchiveOutputStream out = tarStream(file)) {
            for (String dir : List.of("blobs/", "blobs/sha256/")) {
                TarArchiveEntry header = new TarArchiveEntry(dir, TarConstants.LF_DIR);
                header.setMode(0755);
                header.setModTime(0);
                out.putArchiveEntry(header);
                out.closeArchiveEntry();
            }
            for (Map.Entry<String, byte[]> entry : files.entrySet()) {
                TarArchiveEntry header = new TarArchiveEntry(entry.getKey(), TarConstants.LF_NORMAL);
                header.setSize(entry.getValue().length);
                header.setMode(BLOB_MODE);
                header.setModTime(0);
                out.putArchiveEntry(header);
                out.write(entry.getValue());
                out.closeArchiveEntry();
            }
        }
        Files.move(partial, tar, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static Map<String, Object> descriptor(String mediaType, String digest, long size) {
        Map<String, Object> descriptor = new LinkedHashMap<>();
        descriptor.put("mediaType", mediaType);
        descriptor.put("digest", digest);
        descriptor.put("size", size);
        return descriptor;
    }

    private static String blobPath(String digest) {
        return "blobs/sha256/" + digest.substring("sha256:".length());
    }

    private static TarArchiveOutputStream tarStream(OutputStream out) {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(out, StandardCharsets.UTF_8.name());
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        tar.setAddPaxHeadersForNonAsciiNames(true);
        return tar;
    }

    // ---------------------------------------------------------------- helpers

    private record Run(int code, String out, String err) {}

    private static Run run(List<String> command) throws IOException, InterruptedException {
        Process process;
        try {
            process = new ProcessBuilder(command).start();
        } catch (IOException e) {
            throw new IllegalStateException(
                    command.get(0) + " not found or not runnable (" + e.getMessage()
                            + "): the images need it on the PATH",
                    e);
        }
        process.getOutputStream().close();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread errReader = new Thread(() -> {
            try {
                process.getErrorStream().transferTo(err);
            } catch (IOException ignored) {
                // the exit code tells
            }
        });
        errReader.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " did not finish in 60 s");
        }
        errReader.join();
        return new Run(process.exitValue(), out, err.toString(StandardCharsets.UTF_8));
    }

    private static int mode(Path path) throws IOException {
        int mode = 0;
        for (PosixFilePermission permission : Files.getPosixFilePermissions(path)) {
            mode |= 1 << (8 - permission.ordinal());
        }
        return mode;
    }

    static String sha256(byte[] data) {
        return digest("SHA-256", data);
    }

    private static String digest(String algorithm, byte[] data) {
        return HexFormat.of().formatHex(messageDigest(algorithm).digest(data));
    }

    private static MessageDigest messageDigest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }
}
