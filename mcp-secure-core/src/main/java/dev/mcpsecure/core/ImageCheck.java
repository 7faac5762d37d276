package dev.mcpsecure.core;

import dev.mcpsecure.api.InvalidPolicyException;
import dev.mcpsecure.api.PinningPolicy;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.Untrusted;
import dev.mcpsecure.core.internal.image.EntryBody;
import dev.mcpsecure.core.internal.image.ImageFormatException;
import dev.mcpsecure.core.internal.image.TarReader;
import dev.mcpsecure.core.internal.policy.PolicyBinder;
import dev.mcpsecure.core.internal.policy.PolicyBinder.Format;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Checks a container image tarball against the policy it is meant to run under, so an image that
 * drifted from {@link ContainerProfile#image} (a root user, a shell copied in, a stale policy) is
 * caught before it ships. The tarball is what {@code docker save} writes ({@code manifest.json}
 * with {@code Config} and {@code Layers}, layers gzip-compressed or plain) or an OCI image layout
 * ({@code index.json} and {@code blobs/sha256/}); it must hold exactly one image.
 *
 * <p>The checks, each failing with one line that names the problem and, where there is one, the
 * fix:
 *
 * <ul>
 *   <li>the tarball is a readable image: manifest, config and every layer parse; hostile input
 *       (names leaving the root, huge declared sizes, gzip bombs, link loops, bad JSON) is a
 *       problem line, never an exception, and reading is bounded: JSON documents to {@value
 *       #MAX_JSON_BYTES} bytes, the unpacked layers to {@link #MAX_UNPACKED_BYTES} in all, and no
 *       entry body is read that a check does not need; the config's {@code rootfs.diff_ids} match
 *       the layers, and every blob named {@code blobs/sha256/<hex>} has that digest;
 *   <li>what a container engine (Docker, containerd: Go's {@code archive/tar} and {@code
 *       encoding/json}) would read otherwise is refused, not guessed at: a tar header whose name
 *       prefix counts only for some readers (a prefix with a magic other than POSIX {@code
 *       ustar\0}{@code 00}; GNU headers get none), two extended headers for one entry, a global
 *       header setting names or owners, GNU sparse files, a NUL in a PAX name; a JSON object in the
 *       manifest, index or config with two keys equal but for case (the fields read are looked up
 *       case-insensitively, as Go does); a manifest.json and an index.json that name different
 *       configs or layers (an index entry is an attestation only when marked so and for the
 *       platform {@code unknown/unknown});
 *   <li>no entry is written through a symlinked folder (the image's symlinks are followed across
 *       the layers in order; {@code bin -> usr/bin} itself is fine, {@code bin/sh} after it is
 *       not), and no hard link points into {@value #APP} or at a file the policy names (an engine
 *       gives the shared file the link's owner and mode); a hard link to a shell counts as one;
 *   <li>{@code User} is the numeric, non-root {@code uid:gid} of the profile;
 *   <li>no shell or package manager (sh, bash, dash, ash, zsh, busybox, apt, dpkg, apk, yum, dnf,
 *       rpm, ...) in any layer, as a file or a link, even when a later layer deletes it: every
 *       layer ships;
 *   <li>{@code Entrypoint} is the profile's, and there is no {@code Cmd} (it would be appended to
 *       the entry point as arguments);
 *   <li>the profile's labels with equal values, and {@code org.opencontainers.image.source} and
 *       {@code .revision} present and not empty; the profile's volumes;
 *   <li>{@value ContainerProfile#IMAGE_POLICY} has exactly the bytes of the policy file, and the
 *       lockfile the policy names (with its signature and public key file, when the policy names
 *       them) is where the server in the image will look for it, with exactly the bytes of the
 *       local one; each a regular file owned by root and writable by no one else, after all layers
 *       apply;
 *   <li>a CycloneDX JSON SBOM at {@value ContainerProfile#IMAGE_SBOM};
 *   <li>at least one jar in {@value ContainerProfile#IMAGE_LIB}, and nothing there but regular
 *       files and folders (no symlink, hard link or device);
 *   <li>{@value #APP}, {@value ContainerProfile#IMAGE_LIB} and the folder of each file the policy
 *       names, when the tarball has them, are folders owned by root and writable by no one else
 *       after all layers apply.
 * </ul>
 *
 * <p>Command: {@code <server> verify-image <image.tar> [--policy <policy.yaml>] [--main-class
 * <name>]} in every server started through {@link SecureStdioServer} or {@code
 * SecureHttpLauncher}, or {@code java -cp <core and its dependencies> dev.mcpsecure.core.ImageCheck
 * <image.tar> <policy.yaml> <main class>}. It exits {@value #EXIT_OK} with {@code image ok: ...}
 * on stdout, or {@value #EXIT_REJECTED} with one line per problem on stderr; {@value
 * #EXIT_INVALID_POLICY} for an invalid policy, {@value #EXIT_USAGE} for wrong arguments, {@value
 * #EXIT_NO_INPUT} when the image, the policy or its lockfile cannot be read.
 *
 * <p>Stateless and thread-safe: checks may run concurrently.
 */
public final class ImageCheck {

    private static final Logger LOG = LoggerFactory.getLogger(ImageCheck.class);

    /** The word that selects this command as a server's first argument. */
    public static final String NAME = "verify-image";
    /** The image passed every check. */
    public static final int EXIT_OK = 0;
    /** The image failed a check (one line per problem on stderr). */
    public static final int EXIT_REJECTED = 1;
    /** The policy file has problems. */
    public static final int EXIT_INVALID_POLICY = PolicyLoader.EXIT_INVALID_POLICY;
    /** The arguments are wrong. */
    public static final int EXIT_USAGE = 64;
    /** The image tarball, the policy file or its lockfile cannot be read. */
    public static final int EXIT_NO_INPUT = PolicyLoader.EXIT_NO_INPUT;

    /** The largest manifest, index or config JSON read: 1 MiB. */
    public static final int MAX_JSON_BYTES = 1 << 20;
    /** The most bytes the layers may unpack to, all together: 16 GiB. */
    public static final long MAX_UNPACKED_BYTES = 16L << 30;
    /** The most problem lines reported; the rest are counted. */
    public static final int MAX_PROBLEMS = 100;

    /** The label a build adds naming the source repository. */
    public static final String LABEL_SOURCE = "org.opencontainers.image.source";
    /** The label a build adds naming the source revision. */
    public static final String LABEL_REVISION = "org.opencontainers.image.revision";

    private static final int MAX_ENTRIES_KEPT = 100_000;
    private static final long MAX_NAME_CHARS_KEPT = 16L << 20;
    private static final int MAX_OUTER_ENTRIES = 10_000;
    private static final int MAX_LINK_DEPTH = 8;
    private static final String APP = "/app";
    private static final Set<String> BIN_DIRS =
            Set.of("/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin");
    private static final Set<String> SHELLS =
            Set.of("sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "busybox", "toybox");
    private static final Set<String> PACKAGE_MANAGERS =
            Set.of("apt", "apt-get", "aptitude", "dpkg", "apk", "yum", "dnf", "microdnf", "rpm", "zypper", "pacman");
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    /** What a finding is about; stable, for tools that act on findings. */
    public enum Code {
        /** The tarball is not a readable image, holds more than one, or is hostile. */
        UNREADABLE,
        /** The user is root, a name, or not the profile's. */
        USER,
        /** A shell (or busybox) is in a layer. */
        SHELL,
        /** A package manager is in a layer. */
        PACKAGE_MANAGER,
        /** The entry point is not the profile's. */
        ENTRYPOINT,
        /** A {@code Cmd} is set. */
        CMD,
        /** A label is missing or differs. */
        LABEL,
        /** A volume of the profile is missing. */
        VOLUME,
        /** The policy in the image is missing, differs, or can be changed. */
        POLICY,
        /** The lockfile (or its signature or key) in the image is missing, differs, or can be changed. */
        LOCKFILE,
        /** The SBOM is missing or not CycloneDX JSON. */
        SBOM,
        /** No jar in the library folder. */
        JARS
    }

    /**
     * One problem of an image.
     *
     * @param code what it is about
     * @param message one line naming the problem (and the fix), untrusted text made safe
     */
    public record Finding(Code code, String message) {
        @Override
        public String toString() {
            return message;
        }
    }

    private ImageCheck() {}

    /**
     * The problems of the image in {@code imageTar} for a server whose main class is {@code
     * mainClass} under the policy in {@code policyFile}, one line each; empty when it passes.
     *
     * @throws InvalidPolicyException if the policy file has problems
     * @throws IOException if the image tarball, the policy file or the lockfile it names cannot be
     *     read (a tarball that can be read but is not a good image gives findings instead)
     * @throws IllegalArgumentException if {@code mainClass} is not a Java class name
     */
    public static List<String> check(Path imageTar, Path policyFile, String mainClass) throws IOException {
        return findings(imageTar, policyFile, mainClass).stream()
                .map(Finding::message)
                .toList();
    }

    /** {@link #check}, with each problem's {@link Code}. */
    public static List<Finding> findings(Path imageTar, Path policyFile, String mainClass) throws IOException {
        return findings(imageTar, policyFile, mainClass, MAX_UNPACKED_BYTES);
    }

    /** {@link #findings} with another cap on the unpacked bytes; for tests. */
    static List<Finding> findings(Path imageTar, Path policyFile, String mainClass, long maxUnpacked)
            throws IOException {
        SecurityPolicy policy = PolicyLoader.load(policyFile);
        ContainerProfile.Image expected = ContainerProfile.image(policy, mainClass);
        List<Baked> baked = bakedFiles(policy, policyFile);
        long size = Files.size(imageTar); // NoSuchFileException when there is none
        Run run = new Run(expected, baked, maxUnpacked);
        try (FileChannel channel = FileChannel.open(imageTar, StandardOpenOption.READ)) {
            ByteBuffer magic = ByteBuffer.allocate(2);
            channel.read(magic, 0);
            if (magic.position() == 2 && (magic.get(0) & 0xff) == 0x1f && (magic.get(1) & 0xff) == 0x8b) {
                run.add(
                        Code.UNREADABLE,
                        "the tarball is gzip-compressed: gunzip it first (verify-image reads the"
                                + " tar docker save writes)");
            } else {
                run.check(channel, size);
            }
        } catch (ImageFormatException e) {
            run.add(Code.UNREADABLE, "the tarball is not a readable image: " + e.getMessage());
        } catch (JacksonException e) {
            run.add(Code.UNREADABLE, "the tarball is not a readable image: malformed JSON");
        } catch (IOException e) {
            throw new FileSystemException(imageTar.toString(), null, e.getMessage());
        } catch (RuntimeException e) {
            // a gap in this reader, not the caller's fault: one line for the user, the trace to the log
            LOG.warn("verify-image could not read {}; a defect of the reader, please report it", imageTar, e);
            run.add(Code.UNREADABLE, "the tarball could not be read: its format is unexpected here");
        }
        return run.result();
    }

    /** Whether {@code args} ask for this command. */
    public static boolean requested(String[] args) {
        return args.length > 0 && NAME.equals(args[0]);
    }

    /**
     * Runs {@code verify-image <image.tar> [--policy <file>] [--main-class <name>]}.
     *
     * @param env where {@value SecureStdioServer#POLICY_ENV} is read when no {@code --policy} is given
     * @param mainClass the server's main class when no {@code --main-class} is given, or {@code null}
     */
    public static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err, String mainClass) {
        String policyFile = env.get(SecureStdioServer.POLICY_ENV);
        String image = null;
        String main = mainClass;
        for (int i = 1; i < args.length; i++) {
            String arg = args[i];
            String value = i + 1 < args.length ? args[i + 1] : null;
            if (arg.equals("--policy") && value != null) {
                policyFile = value;
                i++;
            } else if (arg.equals("--main-class") && value != null) {
                main = value;
                i++;
            } else if (image == null && !arg.startsWith("--")) {
                image = arg;
            } else {
                return usage(err, "unknown argument '" + Untrusted.text(arg) + "'");
            }
        }
        if (image == null) {
            return usage(err, "no image tarball");
        }
        if (policyFile == null || policyFile.isBlank()) {
            return usage(err, "no policy file");
        }
        if (main == null) {
            return usage(err, "cannot tell the server's main class; give it with --main-class");
        }
        return verify(Path.of(image), Path.of(policyFile), main, out, err);
    }

    /** {@code ImageCheck <image.tar> <policy.yaml> <main class>}: exit codes as the command's. */
    public static void main(String[] args) {
        System.exit(
                args.length == 3
                        ? verify(Path.of(args[0]), Path.of(args[1]), args[2], System.out, System.err)
                        : mainUsage(System.err));
    }

    /**
     * The class of the innermost {@code public static void main(String[])} on this thread's stack:
     * the server's main class when a launcher is called from it, even through lambdas or a
     * wrapping launcher layer. Empty off the main thread.
     */
    public static Optional<String> callerMainClass() {
        MethodType mainType = MethodType.methodType(void.class, String[].class);
        return StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE)
                .walk(frames -> frames.filter(frame -> frame.getMethodName().equals("main")
                                && frame.getMethodType().equals(mainType)
                                && frame.getDeclaringClass() != ImageCheck.class
                                && isStaticMain(frame.getDeclaringClass()))
                        .findFirst()
                        .map(frame -> frame.getDeclaringClass().getName()));
    }

    private static boolean isStaticMain(Class<?> type) {
        try {
            Method main = type.getDeclaredMethod("main", String[].class);
            return Modifier.isStatic(main.getModifiers()) && Modifier.isPublic(main.getModifiers());
        } catch (NoSuchMethodException | SecurityException e) {
            return false;
        }
    }

    private static int verify(Path image, Path policyFile, String mainClass, PrintStream out, PrintStream err) {
        List<String> problems;
        try {
            problems = check(image, policyFile, mainClass);
        } catch (InvalidPolicyException e) {
            err.println(e.getMessage());
            return EXIT_INVALID_POLICY;
        } catch (NoSuchFileException e) {
            err.println(Untrusted.text(String.valueOf(e.getFile())) + ": no such file");
            return EXIT_NO_INPUT;
        } catch (IOException e) {
            err.println(
                    e instanceof FileSystemException unreadable
                            ? Untrusted.text(String.valueOf(unreadable.getFile())) + ": cannot be read"
                                    + (unreadable.getReason() == null
                                            ? ""
                                            : " (" + Untrusted.text(unreadable.getReason()) + ")")
                            : "cannot read the image, the policy or its lockfile: "
                                    + Untrusted.text(String.valueOf(e.getMessage())));
            return EXIT_NO_INPUT;
        } catch (IllegalArgumentException e) {
            return usage(err, e.getMessage());
        }
        if (problems.isEmpty()) {
            out.println("image ok: " + image + " matches " + policyFile + " for " + mainClass);
            return EXIT_OK;
        }
        problems.forEach(err::println);
        return EXIT_REJECTED;
    }

    private static int mainUsage(PrintStream err) {
        err.println("usage: java -cp <class path> " + ImageCheck.class.getName()
                + " <image.tar> <policy.yaml> <main class>");
        return EXIT_USAGE;
    }

    private static int usage(PrintStream err, String problem) {
        err.println(problem + "\nusage: <server> " + NAME
                + " <image.tar> [--policy <policy.yaml>] [--main-class <name>]   (or set "
                + SecureStdioServer.POLICY_ENV + ")");
        return EXIT_USAGE;
    }

    /** A file the image must hold with exactly the bytes of a local one. */
    private record Baked(String path, Path local, byte[] bytes, String what, Code code) {}

    /**
     * The policy, and the files beside it it names, each where the server in the image will look:
     * a relative name in the policy is relative to the policy's folder, {@value #APP} in the image.
     */
    private static List<Baked> bakedFiles(SecurityPolicy policy, Path policyFile) throws IOException {
        byte[] policyBytes = Files.readAllBytes(policyFile);
        List<Baked> baked = new ArrayList<>();
        baked.add(new Baked(ContainerProfile.IMAGE_POLICY, policyFile, policyBytes, "the policy", Code.POLICY));
        PinningPolicy pinning = policy.pinning();
        if (!pinning.enabled()) {
            return baked;
        }
        // the names as written, before the loader resolved them against the local folder
        String name = String.valueOf(policyFile.getFileName()).toLowerCase(Locale.ROOT);
        PinningPolicy written = PolicyBinder.bind(
                        new String(policyBytes, StandardCharsets.UTF_8),
                        name.endsWith(".json") ? Format.JSON : Format.YAML,
                        policyFile.toString())
                .pinning();
        Path lockfile = pinning.lockfile().orElseThrow();
        Path writtenLockfile = written.lockfile().orElseThrow();
        baked.add(lockfileLike(lockfile, writtenLockfile, "the lockfile"));
        if (pinning.signature().isPresent()) {
            baked.add(lockfileLike(
                    Lockfile.signatureFile(lockfile),
                    Lockfile.signatureFile(writtenLockfile),
                    "the lockfile signature"));
            Optional<Path> key = pinning.signature().flatMap(PinningPolicy.SignatureKey::publicKey);
            Optional<Path> writtenKey = written.signature().flatMap(PinningPolicy.SignatureKey::publicKey);
            if (key.isPresent() && writtenKey.isPresent()) {
                baked.add(lockfileLike(key.get(), writtenKey.get(), "the lockfile public key"));
            }
        }
        return baked;
    }

    /** The local file {@code local}, in the image where the policy's {@code written} name puts it. */
    private static Baked lockfileLike(Path local, Path written, String what) throws IOException {
        String name = written.toString().replace('\\', '/');
        Deque<String> parts = new ArrayDeque<>();
        for (String part : ((name.startsWith("/") ? "" : APP + "/") + name).split("/")) {
            if (part.equals("..")) {
                parts.pollLast(); // "/.." is "/"
            } else if (!part.isEmpty() && !part.equals(".")) {
                parts.addLast(part);
            }
        }
        if (Files.size(local) > Lockfile.MAX_BYTES) {
            throw new IOException(local + " (" + what + ", larger than " + Lockfile.MAX_BYTES + " bytes)");
        }
        return new Baked("/" + String.join("/", parts), local, Files.readAllBytes(local), what, Code.LOCKFILE);
    }

    /** The final state of one path under /app. */
    private static final class Node {
        final TarReader.Entry entry;
        final int layer;
        byte[] content;
        String sbomProblem;

        Node(TarReader.Entry entry, int layer) {
            this.entry = entry;
            this.layer = layer;
        }
    }

    /** One check's state. */
    private static final class Run {
        private final ContainerProfile.Image expected;
        private final List<Baked> baked;
        private final Map<String, Baked> bakedByPath = new HashMap<>();
        /** /app, /app/lib and the baked files' folders: each must be root's and writable by no one else. */
        private final Map<String, Code> folders = new TreeMap<>();

        private final List<Finding> findings = new ArrayList<>();
        private final Set<String> flagged = new LinkedHashSet<>();
        private final TreeMap<String, Node> app = new TreeMap<>();
        /** The image's symlinks so far, by path, with their targets as written. */
        private final TreeMap<String, String> symlinks = new TreeMap<>();

        private final Map<String, Integer> symlinkLayer = new HashMap<>();
        private int dropped;
        private final long maxUnpacked;
        private long unpacked;
        private long keptChars;

        Run(ContainerProfile.Image expected, List<Baked> baked, long maxUnpacked) {
            this.expected = expected;
            this.maxUnpacked = maxUnpacked;
            this.baked = baked;
            baked.forEach(file -> bakedByPath.put(file.path(), file));
            folders.put(APP, Code.POLICY);
            folders.put(ContainerProfile.IMAGE_LIB, Code.JARS);
            for (Baked file : baked) {
                String parent = file.path().substring(0, file.path().lastIndexOf('/'));
                if (!parent.isEmpty()) {
                    folders.putIfAbsent(parent, file.code());
                }
            }
        }

        void add(Code code, String message) {
            if (findings.size() < MAX_PROBLEMS) {
                findings.add(new Finding(code, message));
            } else {
                dropped++;
            }
        }

        List<Finding> result() {
            List<Finding> all = new ArrayList<>(findings);
            if (dropped > 0) {
                all.add(new Finding(Code.UNREADABLE, "... and " + dropped + " more problems"));
            }
            return List.copyOf(all);
        }

        void check(FileChannel channel, long size) throws IOException {
            Map<String, TarReader.Entry> outer = index(channel);
            Layout layout = layout(channel, size, outer);
            if (layout == null) {
                return;
            }
            JsonNode config = json(channel, size, outer, layout.config(), "the image config");
            if (config == null) {
                return;
            }
            checkConfig(field(config, "config"));
            List<String> diffIds = strings(field(field(config, "rootfs"), "diff_ids"));
            if (diffIds == null || diffIds.size() != layout.layers().size()) {
                add(
                        Code.UNREADABLE,
                        "the config's rootfs.diff_ids do not list the "
                                + layout.layers().size() + " layers: the config does not describe these layers");
                diffIds = null;
            }
            boolean complete = true;
            int count = layout.layers().size();
            for (int i = 0; i < count; i++) {
                String where = "layer " + (i + 1) + " of " + count;
                TarReader.Entry blob = resolve(outer, layout.layers().get(i), where);
                if (blob == null) {
                    complete = false;
                    continue;
                }
                if (blob.dataOffset() + blob.size() > size) {
                    add(Code.UNREADABLE, where + " is cut off: the tarball is truncated");
                    complete = false;
                    continue;
                }
                String diffId = diffIds == null ? null : diffIds.get(i);
                MessageDigest digest = digest(blob);
                try (InputStream in = open(channel, blob, digest)) {
                    layer(in, i, where, blob, digest, diffId);
                } catch (ImageFormatException e) {
                    add(Code.UNREADABLE, where + " cannot be read: " + e.getMessage());
                    complete = false;
                } catch (IOException e) {
                    add(Code.UNREADABLE, where + " cannot be read: corrupt or truncated compressed data");
                    complete = false;
                }
                if (unpacked > maxUnpacked) {
                    break; // the cap is for all layers together
                }
            }
            if (complete) {
                checkFiles();
            } else {
                add(Code.UNREADABLE, "the files of the image were not checked: a layer cannot be read");
            }
        }

        private record Layout(String config, List<String> layers) {}

        /** The regular files, links and directories of the tarball itself, by normalized name. */
        private Map<String, TarReader.Entry> index(FileChannel channel) throws IOException {
            Map<String, TarReader.Entry> entries = new HashMap<>();
            InputStream in = new BufferedInputStream(Channels.newInputStream(channel.position(0)), 64 << 10);
            TarReader tar = new TarReader(in);
            for (TarReader.Entry entry = tar.next(); entry != null; entry = tar.next()) {
                String name = normalize(entry.name());
                if (name == null) {
                    add(
                            Code.UNREADABLE,
                            "the tarball has an entry named '" + Untrusted.text(entry.name())
                                    + "' that leaves its root: a hostile tarball?");
                    continue;
                }
                if (entries.size() >= MAX_OUTER_ENTRIES) {
                    throw new ImageFormatException("more than " + MAX_OUTER_ENTRIES + " entries in the tarball");
                }
                if (entries.put(name, entry) != null && !entry.isDirectory()) {
                    add(
                            Code.UNREADABLE,
                            "the tarball has two entries named '" + Untrusted.text(entry.name())
                                    + "': which one counts is ambiguous");
                }
            }
            return entries;
        }

        /**
         * The image's config and layers. When the tarball has both manifest.json and index.json
         * (Docker may read the one, containerd reads the other when oci-layout is there), both
         * must name the same config and the same layers.
         */
        private Layout layout(FileChannel channel, long size, Map<String, TarReader.Entry> outer) throws IOException {
            boolean docker = outer.containsKey("/manifest.json");
            boolean oci = outer.containsKey("/index.json");
            if (!docker || !oci) {
                return docker ? dockerLayout(channel, size, outer) : ociLayout(channel, size, outer);
            }
            Layout fromManifest = dockerLayout(channel, size, outer);
            Layout fromIndex = fromManifest == null ? null : ociLayout(channel, size, outer);
            if (fromIndex == null) {
                return null;
            }
            boolean same = fromManifest.layers().size() == fromIndex.layers().size()
                    && sameBlob(outer, fromManifest.config(), fromIndex.config());
            for (int i = 0; same && i < fromIndex.layers().size(); i++) {
                same = sameBlob(
                        outer, fromManifest.layers().get(i), fromIndex.layers().get(i));
            }
            if (!same) {
                add(
                        Code.UNREADABLE,
                        "manifest.json and index.json name different configs or layers: Docker may load the one"
                                + " and containerd the other; save the image again");
                return null;
            }
            return fromManifest;
        }

        /** Whether two names in the tarball are, after links, one entry. */
        private static boolean sameBlob(Map<String, TarReader.Entry> outer, String one, String other) {
            TarReader.Entry first = follow(outer, one);
            TarReader.Entry second = follow(outer, other);
            return first != null && second != null && first.dataOffset() == second.dataOffset();
        }

        /** Whether {@code where} names exactly one image; a problem line when not. */
        private boolean oneImage(String where, int count, String what) {
            if (count == 0) {
                add(Code.UNREADABLE, where + " lists no image");
            } else if (count > 1) {
                add(
                        Code.UNREADABLE,
                        "the tarball holds " + count + " " + what
                                + "; save exactly one image per tarball to verify it");
            }
            return count == 1;
        }

        private Layout dockerLayout(FileChannel channel, long size, Map<String, TarReader.Entry> outer)
                throws IOException {
            JsonNode manifest = json(channel, size, outer, "manifest.json", "manifest.json");
            if (manifest == null) {
                return null;
            }
            if (!oneImage("manifest.json", manifest.isArray() ? manifest.size() : 0, "images")) {
                return null;
            }
            JsonNode image = manifest.get(0);
            List<String> layers = strings(field(image, "Layers"));
            if (!field(image, "Config").isString() || layers == null) {
                add(Code.UNREADABLE, "manifest.json does not name a Config and its Layers");
                return null;
            }
            return new Layout(field(image, "Config").asString(), layers);
        }

        private Layout ociLayout(FileChannel channel, long size, Map<String, TarReader.Entry> outer)
                throws IOException {
            if (outer.containsKey("/index.json")) {
                JsonNode index = json(channel, size, outer, "index.json", "index.json");
                for (int depth = 0; index != null && depth < 3; depth++) {
                    List<JsonNode> manifests = new ArrayList<>();
                    for (JsonNode manifest : field(index, "manifests")) {
                        // BuildKit's provenance and SBOM attestations ride along as manifests of their
                        // own, marked so and for the platform unknown/unknown; anything else is an image
                        JsonNode platform = field(manifest, "platform");
                        boolean attestation = "attestation-manifest"
                                        .equals(field(manifest, "annotations")
                                                .path("vnd.docker.reference.type")
                                                .asString(""))
                                && (platform.isMissingNode()
                                        || platform.isNull()
                                        || ("unknown"
                                                        .equals(field(platform, "os")
                                                                .asString(""))
                                                && "unknown"
                                                        .equals(field(platform, "architecture")
                                                                .asString(""))));
                        if (!attestation) {
                            manifests.add(manifest);
                        }
                    }
                    if (!oneImage("index.json", manifests.size(), "images or platforms")) {
                        return null;
                    }
                    String blob = blob(field(manifests.get(0), "digest"), "index.json");
                    if (blob == null) {
                        return null;
                    }
                    JsonNode manifest = json(channel, size, outer, blob, "the image manifest");
                    if (manifest == null) {
                        return null;
                    }
                    if (!field(manifest, "manifests").isMissingNode()) {
                        index = manifest; // an image index: one level down
                        continue;
                    }
                    String config = blob(field(field(manifest, "config"), "digest"), "the image manifest");
                    List<String> layers = new ArrayList<>();
                    if (!field(manifest, "layers").isArray()) {
                        add(Code.UNREADABLE, "the image manifest lists no layers");
                        return null;
                    }
                    for (JsonNode layer : field(manifest, "layers")) {
                        String name = blob(field(layer, "digest"), "the image manifest");
                        if (name == null) {
                            return null;
                        }
                        layers.add(name);
                    }
                    return config == null ? null : new Layout(config, layers);
                }
                if (index != null) {
                    add(Code.UNREADABLE, "index.json nests image indexes too deeply");
                }
                return null;
            }
            add(
                    Code.UNREADABLE,
                    "not an image tarball: no manifest.json or index.json"
                            + " (save it with docker save, or as an OCI image layout)");
            return null;
        }

        private String blob(JsonNode digest, String where) {
            String text = digest.isString() ? digest.asString() : "";
            if (!text.matches("sha256:[0-9a-f]{64}")) {
                add(Code.UNREADABLE, where + " names a blob without a sha256 digest");
                return null;
            }
            return "blobs/sha256/" + text.substring("sha256:".length());
        }

        /** The file {@code name} names, following links in the tarball; {@code null} when there is none. */
        private static TarReader.Entry follow(Map<String, TarReader.Entry> outer, String name) {
            String path = normalize(name);
            for (int depth = 0; path != null && depth <= MAX_LINK_DEPTH; depth++) {
                TarReader.Entry entry = outer.get(path);
                if (entry == null || entry.isFile()) {
                    return entry;
                }
                if (entry.type() == '2') {
                    String parent = path.substring(0, path.lastIndexOf('/'));
                    path = normalize(
                            entry.linkName().startsWith("/") ? entry.linkName() : parent + "/" + entry.linkName());
                } else if (entry.type() == '1') {
                    path = normalize(entry.linkName());
                } else {
                    return null;
                }
            }
            return null;
        }

        /** The entry {@code name} names, following links in the tarball; {@code null} after a finding. */
        private TarReader.Entry resolve(Map<String, TarReader.Entry> outer, String name, String what) {
            String path = normalize(name);
            for (int depth = 0; depth <= MAX_LINK_DEPTH; depth++) {
                TarReader.Entry entry = path == null ? null : outer.get(path);
                if (entry == null) {
                    add(Code.UNREADABLE, what + " ('" + Untrusted.text(name) + "') is not in the tarball");
                    return null;
                }
                if (entry.isFile()) {
                    return entry;
                }
                if (entry.type() == '2') {
                    String parent = path.substring(0, path.lastIndexOf('/'));
                    path = normalize(
                            entry.linkName().startsWith("/") ? entry.linkName() : parent + "/" + entry.linkName());
                } else if (entry.type() == '1') {
                    path = normalize(entry.linkName());
                } else {
                    add(Code.UNREADABLE, what + " ('" + Untrusted.text(name) + "') is not a file in the tarball");
                    return null;
                }
            }
            add(Code.UNREADABLE, what + " ('" + Untrusted.text(name) + "') is a link loop or too long a chain");
            return null;
        }

        private JsonNode json(
                FileChannel channel, long size, Map<String, TarReader.Entry> outer, String name, String what)
                throws IOException {
            TarReader.Entry entry = resolve(outer, name, what);
            if (entry == null) {
                return null;
            }
            if (entry.size() > MAX_JSON_BYTES) {
                add(Code.UNREADABLE, what + " has " + entry.size() + " bytes; at most " + MAX_JSON_BYTES + " are read");
                return null;
            }
            if (entry.dataOffset() + entry.size() > size) {
                add(Code.UNREADABLE, what + " is cut off: the tarball is truncated");
                return null;
            }
            byte[] bytes;
            MessageDigest digest = digest(entry);
            try (InputStream in = open(channel, entry, digest)) {
                bytes = in.readNBytes((int) entry.size());
            }
            if (!matches(digest, entry)) {
                add(Code.UNREADABLE, what + " does not match its digest: the tarball was changed after it was made");
                return null;
            }
            JsonNode tree;
            try {
                tree = JSON.readTree(bytes);
            } catch (JacksonException e) {
                add(Code.UNREADABLE, what + " is not valid JSON");
                return null;
            }
            String twins = caseTwins(tree);
            if (twins != null) {
                add(
                        Code.UNREADABLE,
                        what + " has the keys " + twins + " in one object, equal but for case: Go's JSON reader"
                                + " (Docker, containerd) takes them as one and the last wins; a hostile image?");
                return null;
            }
            return tree;
        }

        /** A SHA-256 digest when {@code entry} is a content-addressed blob, else {@code null}. */
        private static MessageDigest digest(TarReader.Entry entry) {
            return normalize(entry.name()) != null && normalize(entry.name()).matches(BLOB) ? sha256() : null;
        }

        private static boolean matches(MessageDigest digest, TarReader.Entry entry) {
            if (digest == null) {
                return true;
            }
            String name = normalize(entry.name());
            return HexFormat.of().formatHex(digest.digest()).equals(name.substring(name.lastIndexOf('/') + 1));
        }

        private static InputStream open(FileChannel channel, TarReader.Entry entry, MessageDigest digest)
                throws IOException {
            channel.position(entry.dataOffset());
            InputStream body = new EntryBody(Channels.newInputStream(channel), entry.size(), n -> {});
            return digest == null ? body : new DigestInputStream(body, digest);
        }

        private void layer(
                InputStream blob, int index, String where, TarReader.Entry entry, MessageDigest digest, String diffId)
                throws IOException {
            BufferedInputStream buffered = new BufferedInputStream(blob, 64 << 10);
            buffered.mark(4);
            byte[] magic = buffered.readNBytes(4);
            buffered.reset();
            InputStream data;
            if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
                data = new GZIPInputStream(buffered, 64 << 10);
            } else if (magic.length == 4
                    && (magic[0] & 0xff) == 0x28
                    && (magic[1] & 0xff) == 0xb5
                    && (magic[2] & 0xff) == 0x2f
                    && (magic[3] & 0xff) == 0xfd) {
                throw new ImageFormatException("zstd-compressed layers are not supported; save the image"
                        + " with gzip-compressed or plain layers");
            } else {
                data = buffered;
            }
            MessageDigest uncompressed = diffId == null ? null : sha256();
            Capped tarStream = new Capped(data, uncompressed);
            TarReader tar = new TarReader(tarStream);
            for (TarReader.Entry layerEntry = tar.next(); layerEntry != null; layerEntry = tar.next()) {
                String path = normalize(layerEntry.name());
                if (path == null) {
                    add(
                            Code.UNREADABLE,
                            where + " has an entry named '" + Untrusted.text(layerEntry.name())
                                    + "' that leaves the image's root: a hostile tarball?");
                    continue;
                }
                if (path.equals("/")) {
                    continue;
                }
                links(layerEntry, path, index, where);
                flagTools(layerEntry, path, where);
                apply(layerEntry, path, index, tar);
            }
            drain(tarStream);
            drain(buffered);
            if (!matches(digest, entry)) {
                add(Code.UNREADABLE, where + " does not match its digest: the tarball was changed after it was made");
            }
            if (uncompressed != null && !("sha256:" + HexFormat.of().formatHex(uncompressed.digest())).equals(diffId)) {
                add(
                        Code.UNREADABLE,
                        where + " does not match its diff_id in the config: the tarball was changed"
                                + " after it was made");
            }
        }

        /** Counts the unpacked bytes against {@link #MAX_UNPACKED_BYTES}. */
        private final class Capped extends InputStream {
            private final InputStream in;
            private final MessageDigest digest;

            Capped(InputStream in, MessageDigest digest) {
                this.in = in;
                this.digest = digest;
            }

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                int n = in.read(buffer, offset, length);
                if (n > 0) {
                    unpacked += n;
                    if (digest != null) {
                        digest.update(buffer, offset, n);
                    }
                    if (unpacked > maxUnpacked) {
                        throw new ImageFormatException(
                                "the layers unpack to more than " + maxUnpacked + " bytes (a compression bomb?)");
                    }
                }
                return n;
            }

            @Override
            public long skip(long n) throws IOException {
                byte[] sink = new byte[8192];
                int read = read(sink, 0, (int) Math.min(n, sink.length));
                return Math.max(read, 0);
            }
        }

        /**
         * Refuses an entry written through a symlinked parent folder (an engine resolves the
         * parent inside the root and writes where the link points) and a hard link to a file the
         * check is about (an engine applies the link's owner and mode to the shared inode); then
         * keeps the image's symlinks, across the layers in order, up to date.
         */
        private void links(TarReader.Entry entry, String path, int layer, String where) throws ImageFormatException {
            String through = symlinkAbove(path);
            if (through != null) {
                flag(
                        Code.UNREADABLE,
                        path,
                        where + " writes " + Untrusted.text(path) + " through the symlink " + Untrusted.text(through)
                                + " (to " + Untrusted.text(symlinks.get(through)) + "): an engine follows it and"
                                + " writes elsewhere; a hostile image?");
            }
            if (entry.type() == '1') {
                String target = normalize(entry.linkName());
                String targetThrough = target == null ? null : symlinkAbove(target);
                Baked file = target == null ? null : bakedByPath.get(target);
                if (target == null) {
                    flag(
                            Code.UNREADABLE,
                            path,
                            where + " has a hard link " + Untrusted.text(path) + " to '"
                                    + Untrusted.text(entry.linkName()) + "', which leaves the image's root");
                } else if (targetThrough != null) {
                    flag(
                            Code.UNREADABLE,
                            path,
                            where + " has a hard link " + Untrusted.text(path) + " to " + Untrusted.text(target)
                                    + " through the symlink " + Untrusted.text(targetThrough) + ": a hostile image?");
                } else if (file != null || target.equals(APP) || target.startsWith(APP + "/")) {
                    flag(
                            file != null ? file.code() : Code.UNREADABLE,
                            path,
                            where + " has a hard link " + Untrusted.text(path) + " to " + Untrusted.text(target)
                                    + ": an engine gives the shared file the link's owner and mode ("
                                    + "uid " + entry.uid() + ", " + String.format(Locale.ROOT, "0%o", entry.mode())
                                    + "); link nothing to " + APP + " or the files the policy names");
                }
            }
            int slash = path.lastIndexOf('/');
            String folder = slash == 0 ? "" : path.substring(0, slash);
            String base = path.substring(slash + 1);
            if (base.equals(".wh..wh..opq")) {
                symlinks.subMap(folder + "/", folder + "/" + Character.MAX_VALUE)
                        .entrySet()
                        .removeIf(link -> symlinkLayer.getOrDefault(link.getKey(), layer) < layer);
                return;
            }
            String target = base.startsWith(".wh.") ? folder + "/" + base.substring(4) : path;
            symlinks.remove(target);
            if (!entry.isDirectory() || base.startsWith(".wh.")) {
                symlinks.subMap(target + "/", target + "/" + Character.MAX_VALUE)
                        .clear();
            }
            if (entry.type() == '2' && !base.startsWith(".wh.")) {
                keptChars += path.length() + entry.linkName().length();
                if (symlinks.size() >= MAX_ENTRIES_KEPT || keptChars > MAX_NAME_CHARS_KEPT) {
                    throw new ImageFormatException("too many symlinks, or names too long");
                }
                symlinks.put(path, entry.linkName());
                symlinkLayer.put(path, layer);
            }
        }

        /** The nearest folder above {@code path} that is a symlink now, or {@code null}. */
        private String symlinkAbove(String path) {
            for (int i = path.indexOf('/', 1); i > 0; i = path.indexOf('/', i + 1)) {
                String above = path.substring(0, i);
                if (symlinks.containsKey(above)) {
                    return above;
                }
            }
            return null;
        }

        private void flagTools(TarReader.Entry entry, String path, String where) {
            if (entry.isDirectory()) {
                return;
            }
            String base = path.substring(path.lastIndexOf('/') + 1);
            String folder = path.substring(0, path.lastIndexOf('/'));
            if (base.startsWith(".wh.")) {
                return;
            }
            boolean busybox = base.equals("busybox") || base.equals("toybox");
            boolean inBin = BIN_DIRS.contains(folder);
            String link = entry.isLink() ? entry.linkName() : "";
            String linkBase = link.substring(link.lastIndexOf('/') + 1);
            String linkTarget = entry.type() == '1' ? normalize(link) : null;
            boolean hardLinkInBin = linkTarget != null
                    && BIN_DIRS.contains(linkTarget.substring(0, Math.max(linkTarget.lastIndexOf('/'), 0)));
            if (hardLinkInBin && SHELLS.contains(linkBase)) {
                flag(
                        Code.SHELL,
                        path,
                        where + " has " + Untrusted.text(path) + ", a hard link to " + Untrusted.text(linkTarget)
                                + " (a shell): build the final stage from a base with no shell");
            } else if (hardLinkInBin && PACKAGE_MANAGERS.contains(linkBase)) {
                flag(
                        Code.PACKAGE_MANAGER,
                        path,
                        where + " has " + Untrusted.text(path) + ", a hard link to " + Untrusted.text(linkTarget)
                                + " (a package manager): build the final stage from a base with none");
            } else if (busybox || (inBin && SHELLS.contains(base))) {
                flag(
                        Code.SHELL,
                        path,
                        where + " has " + Untrusted.text(path) + (entry.isLink() ? " (a link)" : "")
                                + ", a shell: build the final stage from a base with no shell (distroless) and copy none in;"
                                + " a later layer deleting it does not remove it from the image");
            } else if (inBin && PACKAGE_MANAGERS.contains(base)) {
                flag(
                        Code.PACKAGE_MANAGER,
                        path,
                        where + " has " + Untrusted.text(path)
                                + (entry.isLink() ? " (a link)" : "")
                                + ", a package manager: build the final stage from a base with none (distroless)");
            } else if (linkBase.equals("busybox") || linkBase.equals("toybox")) {
                flag(
                        Code.SHELL,
                        path,
                        where + " has " + Untrusted.text(path) + ", a link to " + Untrusted.text(link)
                                + " (a shell): build the final stage from a base with no shell");
            }
        }

        private void flag(Code code, String path, String message) {
            if (flagged.size() >= MAX_PROBLEMS) {
                dropped++;
            } else if (flagged.add(path)) {
                add(code, message);
            }
        }

        /** Applies one layer entry to the final state of /app and of the files the policy names. */
        private void apply(TarReader.Entry entry, String path, int layer, TarReader tar) throws IOException {
            int slash = path.lastIndexOf('/');
            String folder = slash == 0 ? "/" : path.substring(0, slash);
            String base = path.substring(slash + 1);
            if (base.equals(".wh..wh..opq")) {
                String prefix = folder.equals("/") ? "/" : folder + "/";
                app.subMap(prefix, prefix + Character.MAX_VALUE).values().removeIf(node -> node.layer < layer);
                return;
            }
            if (base.startsWith(".wh.")) {
                remove((folder.equals("/") ? "" : folder) + "/" + base.substring(4), true);
                return;
            }
            if (!entry.isDirectory()) {
                remove(path, false); // a file or link in place of a folder hides what was in it
            }
            if (!path.equals(APP)
                    && !path.startsWith(APP + "/")
                    && !bakedByPath.containsKey(path)
                    && !folders.containsKey(path)) {
                return;
            }
            keptChars += path.length();
            if ((app.size() >= MAX_ENTRIES_KEPT && !app.containsKey(path)) || keptChars > MAX_NAME_CHARS_KEPT) {
                throw new ImageFormatException("too many files under " + APP + ", or names too long");
            }
            Node node = new Node(entry, layer);
            app.put(path, node);
            if (!entry.isFile()) {
                return;
            }
            Baked file = bakedByPath.get(path);
            if (file != null) {
                node.content = tar.body(file.bytes().length);
            } else if (path.equals(ContainerProfile.IMAGE_SBOM)) {
                node.sbomProblem = sbom(tar.bodyStream());
            }
        }

        /** Removes {@code path}'s descendants, and itself when {@code self}. */
        private void remove(String path, boolean self) {
            if (self) {
                app.remove(path);
            }
            app.subMap(path + "/", path + "/" + Character.MAX_VALUE).clear();
        }

        /** Why the SBOM is not CycloneDX JSON, or {@code null}. */
        private static String sbom(InputStream in) {
            try (JsonParser parser = JSON.createParser(in)) {
                if (parser.nextToken() != JsonToken.START_OBJECT) {
                    return "is not a JSON object";
                }
                String format = null;
                while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
                    String name = parser.currentName();
                    JsonToken value = parser.nextToken();
                    if (name.equals("bomFormat") && value == JsonToken.VALUE_STRING) {
                        format = parser.getString();
                    } else {
                        parser.skipChildren();
                    }
                }
                if (parser.nextToken() != null) {
                    return "is not one JSON document";
                }
                return "CycloneDX".equals(format)
                        ? null
                        : "has bomFormat " + (format == null ? "(none)" : "'" + Untrusted.text(format) + "'")
                                + ", not 'CycloneDX'";
            } catch (JacksonException e) {
                return "is not valid JSON";
            }
        }

        private void checkConfig(JsonNode config) {
            String user =
                    field(config, "User").isString() ? field(config, "User").asString() : "";
            String uid = user.contains(":") ? user.substring(0, user.indexOf(':')) : user;
            if (user.isEmpty()) {
                add(Code.USER, "the image runs as root (no User): set USER " + expected.user());
            } else if (uid.equals("0") || uid.equals("root") || uid.matches("0+")) {
                add(
                        Code.USER,
                        "the image runs as root (User '" + Untrusted.text(user) + "'): set USER " + expected.user());
            } else if (!user.matches("[0-9]+(:[0-9]+)?")) {
                add(
                        Code.USER,
                        "the image's User '" + Untrusted.text(user)
                                + "' is a name, which the runtime cannot check is not root: set USER "
                                + expected.user());
            } else if (!user.equals(expected.user())) {
                add(Code.USER, "the image's User is '" + Untrusted.text(user) + "', expected " + expected.user());
            }
            List<String> entrypoint = strings(field(config, "Entrypoint"));
            if (!expected.entrypoint().equals(entrypoint)) {
                add(
                        Code.ENTRYPOINT,
                        "the Entrypoint is " + show(field(config, "Entrypoint")) + ", expected "
                                + show(JSON.valueToTree(expected.entrypoint())));
            }
            JsonNode cmd = field(config, "Cmd");
            if (!cmd.isMissingNode() && !cmd.isNull() && !(cmd.isArray() && cmd.isEmpty())) {
                add(
                        Code.CMD,
                        "the image has a Cmd " + show(cmd)
                                + ", which would be appended to the entry point as arguments: set CMD []");
            }
            JsonNode labels = field(config, "Labels");
            for (Map.Entry<String, String> label : expected.labels().entrySet()) {
                JsonNode value = labels.path(label.getKey());
                if (!value.isString()) {
                    add(
                            Code.LABEL,
                            "the label " + label.getKey() + " is missing, expected '"
                                    + Untrusted.text(label.getValue(), 300) + "'");
                } else if (!value.asString().equals(label.getValue())) {
                    add(
                            Code.LABEL,
                            "the label " + label.getKey() + " is '" + Untrusted.text(value.asString(), 300)
                                    + "', expected '" + Untrusted.text(label.getValue(), 300) + "'");
                }
            }
            for (String label : List.of(LABEL_SOURCE, LABEL_REVISION)) {
                JsonNode value = labels.path(label);
                if (!value.isString() || value.asString().isBlank()) {
                    add(Code.LABEL, "the label " + label + " is missing or empty: the build must set it");
                }
            }
            JsonNode volumes = field(config, "Volumes");
            for (String volume : expected.volumes()) {
                if (!volumes.has(volume)) {
                    add(Code.VOLUME, "the volume " + volume + " is missing: add VOLUME " + volume);
                }
            }
        }

        private void checkFiles() {
            for (Map.Entry<String, Code> folder : folders.entrySet()) {
                Node node = app.get(folder.getKey());
                if (node == null) {
                    continue; // not in the tarball: an engine makes it root's, 0755
                }
                String what = "the folder " + folder.getKey();
                if (!node.entry.isDirectory()) {
                    add(folder.getValue(), what + " is not a directory in the image (a link or file)");
                } else if (node.entry.uid() != 0 || (node.entry.mode() & 022) != 0) {
                    add(
                            folder.getValue(),
                            what + " is owned by uid " + node.entry.uid() + " with mode "
                                    + String.format(Locale.ROOT, "0%o", node.entry.mode())
                                    + ": the server could replace the files in it; make it root's, mode 0555");
                }
            }
            for (Baked file : baked) {
                Node node = app.get(file.path());
                String what = file.what() + " " + file.path();
                if (node == null) {
                    add(
                            file.code(),
                            what + " is not in the image: copy "
                                    + Untrusted.text(file.local().toString()) + " there");
                    continue;
                }
                if (!node.entry.isFile()) {
                    add(file.code(), what + " is not a regular file in the image (a link or directory)");
                    continue;
                }
                if (node.content == null || !Arrays.equals(node.content, file.bytes())) {
                    add(
                            file.code(),
                            what + " in the image differs from "
                                    + Untrusted.text(file.local().toString())
                                    + " (" + node.entry.size() + " bytes, expected " + file.bytes().length
                                    + "): rebuild the image");
                }
                if (node.entry.uid() != 0) {
                    add(
                            file.code(),
                            what + " is owned by uid " + node.entry.uid()
                                    + ", not root: the server could change it; copy it with --chown=0:0");
                }
                if ((node.entry.mode() & 022) != 0) {
                    add(
                            file.code(),
                            what + " has mode " + String.format(Locale.ROOT, "0%o", node.entry.mode())
                                    + ", writable by others than its owner: copy it with --chmod=0444");
                }
            }
            Node sbom = app.get(ContainerProfile.IMAGE_SBOM);
            if (sbom == null) {
                add(Code.SBOM, "no SBOM at " + ContainerProfile.IMAGE_SBOM + ": add a CycloneDX JSON SBOM there");
            } else if (!sbom.entry.isFile()) {
                add(Code.SBOM, "the SBOM " + ContainerProfile.IMAGE_SBOM + " is not a regular file");
            } else if (sbom.sbomProblem != null) {
                add(Code.SBOM, "the SBOM " + ContainerProfile.IMAGE_SBOM + " " + sbom.sbomProblem);
            }
            String lib = ContainerProfile.IMAGE_LIB + "/";
            int jars = 0;
            int changeable = 0;
            String first = null;
            int odd = 0;
            String firstOdd = null;
            for (Map.Entry<String, Node> entry :
                    app.subMap(lib, lib + Character.MAX_VALUE).entrySet()) {
                String name = entry.getKey().substring(lib.length());
                TarReader.Entry jar = entry.getValue().entry;
                if (!jar.isFile() && !jar.isDirectory()) {
                    odd++;
                    firstOdd = firstOdd != null
                            ? firstOdd
                            : Untrusted.text(name)
                                    + (jar.type() == '2'
                                            ? ", a symlink to " + Untrusted.text(jar.linkName())
                                            : jar.type() == '1'
                                                    ? ", a hard link to " + Untrusted.text(jar.linkName())
                                                    : ", type '" + Untrusted.text(String.valueOf(jar.type())) + "'");
                    continue;
                }
                if (!jar.isFile()
                        || name.contains("/")
                        || !name.toLowerCase(Locale.ROOT).endsWith(".jar")) {
                    continue;
                }
                jars++;
                if (jar.uid() != 0 || (jar.mode() & 022) != 0) {
                    changeable++;
                    first = first != null
                            ? first
                            : Untrusted.text(name) + " uid " + jar.uid() + " mode "
                                    + String.format(Locale.ROOT, "0%o", jar.mode());
                }
            }
            if (odd > 0) {
                add(
                        Code.JARS,
                        odd + " entries in " + ContainerProfile.IMAGE_LIB + " are not regular files (first: " + firstOdd
                                + "): copy the jars there as files");
            }
            if (jars == 0) {
                add(Code.JARS, "no jar in " + ContainerProfile.IMAGE_LIB + ": copy the server's jars there");
            } else if (changeable > 0) {
                add(
                        Code.JARS,
                        changeable + " jar(s) in " + ContainerProfile.IMAGE_LIB
                                + " are not owned by root or are writable by others (first: " + first
                                + "): copy them with --chown=0:0 --chmod=0444");
            }
        }
    }

    private static final String BLOB = "/blobs/sha256/[0-9a-f]{64}";

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /** Reads {@code in} to its end (bounded by the caller's caps). */
    private static void drain(InputStream in) throws IOException {
        byte[] sink = new byte[64 << 10];
        while (in.read(sink, 0, sink.length) >= 0) {
            // discard
        }
    }

    /**
     * Two keys of one object anywhere in {@code tree} that Go's {@code encoding/json} matches as
     * one struct field (equal under simple case folding), as {@code 'A' and 'a'}; or {@code null}.
     */
    static String caseTwins(JsonNode tree) {
        Deque<JsonNode> todo = new ArrayDeque<>();
        todo.push(tree);
        while (!todo.isEmpty()) {
            JsonNode node = todo.pop();
            if (node.isObject()) {
                Map<String, String> seen = new HashMap<>();
                for (Map.Entry<String, JsonNode> property : node.properties()) {
                    String other = seen.putIfAbsent(fold(property.getKey()), property.getKey());
                    if (other != null) {
                        return "'" + Untrusted.text(other, 100) + "' and '" + Untrusted.text(property.getKey(), 100)
                                + "'";
                    }
                }
            }
            if (node.isContainer()) {
                for (JsonNode child : node) {
                    todo.push(child);
                }
            }
        }
        return null;
    }

    /** {@code name} case-folded about as Go's {@code encoding/json} folds keys (it also folds ſ and the Kelvin sign). */
    private static String fold(String name) {
        StringBuilder folded = new StringBuilder(name.length());
        name.codePoints().forEach(cp -> folded.appendCodePoint(Character.toLowerCase(Character.toUpperCase(cp))));
        return folded.toString();
    }

    /**
     * The member {@code name} of {@code node} as Go's {@code encoding/json} finds a struct field:
     * an exact key, else one equal under case folding (objects with two such keys are refused
     * first); missing when there is none.
     */
    private static JsonNode field(JsonNode node, String name) {
        JsonNode exact = node.path(name);
        if (!exact.isMissingNode() || !node.isObject()) {
            return exact;
        }
        String folded = fold(name);
        for (Map.Entry<String, JsonNode> property : node.properties()) {
            if (fold(property.getKey()).equals(folded)) {
                return property.getValue();
            }
        }
        return exact;
    }

    private static List<String> strings(JsonNode node) {
        if (!node.isArray()) {
            return null;
        }
        List<String> values = new ArrayList<>();
        for (JsonNode value : node) {
            if (!value.isString()) {
                return null;
            }
            values.add(value.asString());
        }
        return values;
    }

    private static String show(JsonNode node) {
        return node.isMissingNode() ? "(none)" : Untrusted.text(node.toString(), 300);
    }

    /** {@code name} as an absolute path with no {@code .} or empty parts; {@code null} when it leaves the root. */
    static String normalize(String name) {
        Deque<String> parts = new ArrayDeque<>();
        for (String part : name.split("/", -1)) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (parts.isEmpty()) {
                    return null;
                }
                parts.removeLast();
            } else {
                parts.addLast(part);
            }
        }
        return "/" + String.join("/", parts);
    }
}
