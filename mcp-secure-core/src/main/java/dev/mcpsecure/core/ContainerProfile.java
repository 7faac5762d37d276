package dev.mcpsecure.core;

import dev.mcpsecure.api.Cidr;
import dev.mcpsecure.api.EgressRule;
import dev.mcpsecure.api.FileAccess;
import dev.mcpsecure.api.FilesystemRoot;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.Untrusted;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The container hardening a policy implies, so the same file that drives the in-process guards
 * also drives the boundary around the process: a Dockerfile fragment (non-root, no shell or
 * package manager in the final image), {@code docker run} flags (read-only root, no
 * capabilities, no new privileges, the policy's roots as bind mounts, read-only where the root
 * is, resource limits, no network when the policy allows no egress), and a Kubernetes Pod
 * {@code securityContext} with a {@code NetworkPolicy} whose egress comes from the policy.
 *
 * <p>Deterministic: the same policy always gives the same text. Command line: {@code
 * container-profile <policy.yaml>} prints it to stdout.
 */
public final class ContainerProfile {

    /** The non-root user and group the profile runs as. */
    public static final int UID = 65532;
    /** Memory limit of the profile. */
    public static final String MEMORY = "512m";
    /** CPU limit of the profile. */
    public static final String CPUS = "1";

    /** Where an image keeps the server's jars; the entry point's class path is every jar in it. */
    public static final String IMAGE_LIB = "/app/lib";
    /** Where an image keeps the policy, read-only and owned by root; its lockfile lies beside it. */
    public static final String IMAGE_POLICY = "/app/policy.yaml";
    /** Where an image keeps its CycloneDX SBOM (JSON). */
    public static final String IMAGE_SBOM = "/app/sbom.cdx.json";
    /** Image label naming the server the policy describes. */
    public static final String LABEL_SERVER = "dev.mcpsecure.server";
    /** Image label with the {@code docker run} flags the policy implies, space-separated. */
    public static final String LABEL_RUN = "dev.mcpsecure.run";

    private static final Pattern MAIN_CLASS = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*(\\.[A-Za-z_$][A-Za-z0-9_$]*)*");

    private ContainerProfile() {}

    /**
     * The configuration an image of a server under {@code policy} has: what the samples' images are
     * built from and what {@code verify-image} checks an image against.
     *
     * @param user numeric {@code uid:gid}, never root
     * @param entrypoint {@code java} (found on the image's {@code PATH}) with every jar of {@link
     *     #IMAGE_LIB}, the main class and {@code --policy} {@link #IMAGE_POLICY}
     * @param labels {@link #LABEL_SERVER} and {@link #LABEL_RUN}; a build adds
     *     {@code org.opencontainers.image.source} and {@code .revision}
     * @param volumes directories the container needs writable under a read-only root (tmpfs)
     */
    public record Image(String user, List<String> entrypoint, Map<String, String> labels, List<String> volumes) {
        /** Copies the collections. */
        public Image {
            entrypoint = List.copyOf(entrypoint);
            labels = Collections.unmodifiableMap(new TreeMap<>(labels));
            volumes = List.copyOf(volumes);
        }
    }

    /**
     * The image configuration for a server whose {@code main} is {@code mainClass}: deterministic,
     * derived from the same policy as the {@code docker run} flags.
     *
     * @throws IllegalArgumentException if {@code mainClass} is not an ASCII Java class name
     */
    public static Image image(SecurityPolicy policy, String mainClass) {
        if (mainClass == null || !MAIN_CLASS.matcher(mainClass).matches()) {
            throw new IllegalArgumentException("main class " + Untrusted.text(String.valueOf(mainClass))
                    + " is not a Java class name; give the fully qualified name of the server's main class");
        }
        return new Image(
                UID + ":" + UID,
                List.of("java", "-cp", IMAGE_LIB + "/*", mainClass, "--policy", IMAGE_POLICY),
                Map.of(LABEL_SERVER, policy.server().name(), LABEL_RUN, String.join(" ", dockerRunFlags(policy))),
                List.of("/tmp"));
    }

    /** {@code container-profile <policy.yaml>}: exit 0 with the profile on stdout, 2 invalid policy, 64 usage, 66 unreadable. */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length != 1) {
            err.println("usage: container-profile <policy.yaml>");
            return 64;
        }
        PolicyLoader.CommandLineLoad loaded = PolicyLoader.loadForCommandLine(Path.of(args[0]), err);
        if (loaded.loaded()) {
            out.print(generate(loaded.policy()));
        }
        return loaded.exitCode();
    }

    /** All three parts, each under a heading line. */
    public static String generate(SecurityPolicy policy) {
        return "# mcp-secure container profile for " + policy.server().name() + "\n\n"
                + "## Dockerfile (final stage)\n" + dockerfile(policy) + "\n"
                + "## docker run\n"
                + auditMount(policy)
                        .problem()
                        .map(problem -> "# " + problem + "\n")
                        .orElse("")
                + "docker run " + String.join(" \\\n  ", dockerRunFlags(policy))
                + " \\\n  <image>\n\n"
                + "## Kubernetes\n" + kubernetes(policy);
    }

    /**
     * A final image stage with no shell or package manager, running as a non-root user, laid out
     * and labelled as {@link #image} says, so that {@code verify-image} accepts what it builds:
     * the jars, the policy, its lockfile and the SBOM owned by root and read-only ({@code COPY
     * --chmod} needs BuildKit), {@code /tmp} a volume. The source and revision labels are
     * placeholders to fill in.
     */
    public static String dockerfile(SecurityPolicy policy) {
        Image image = image(policy, "MainClass");
        List<String> entrypoint = new ArrayList<>();
        for (String part : image.entrypoint()) {
            entrypoint.add(quote(part.equals("MainClass") ? "<main class>" : part));
        }
        String readOnly = "COPY --chown=0:0 --chmod=0444 ";
        String app = IMAGE_POLICY.substring(0, IMAGE_POLICY.lastIndexOf('/') + 1);
        List<String> lines = new ArrayList<>(List.of(
                "# distroless: no shell, no package manager",
                "FROM gcr.io/distroless/java17-debian12:nonroot",
                readOnly + "lib/*.jar " + IMAGE_LIB + "/",
                readOnly + "policy.yaml " + IMAGE_POLICY));
        policy.pinning().lockfile().ifPresent(lock -> {
            String name = Untrusted.text(lock.getFileName().toString());
            lines.add(readOnly + name + " " + app + name);
        });
        lines.add(readOnly + "sbom.cdx.json " + IMAGE_SBOM + "   # CycloneDX, e.g. cyclonedx-maven-plugin makeBom");
        List<String> labels = new ArrayList<>();
        image.labels().forEach((key, value) -> labels.add(key + "=" + quote(value)));
        lines.add("LABEL " + String.join(" \\\n      ", labels));
        lines.add(
                "LABEL org.opencontainers.image.source=\"<repository url>\" org.opencontainers.image.revision=\"<commit>\"");
        lines.add("VOLUME ["
                + String.join(
                        ", ",
                        image.volumes().stream().map(ContainerProfile::quote).toList()) + "]");
        lines.add("USER " + image.user());
        lines.add("ENTRYPOINT [" + String.join(", ", entrypoint) + "]");
        lines.add("");
        return String.join("\n", lines);
    }

    /** The {@code docker run} flags, one per element. */
    public static List<String> dockerRunFlags(SecurityPolicy policy) {
        List<String> flags = new ArrayList<>(List.of(
                "--read-only",
                "--tmpfs /tmp",
                "--cap-drop ALL",
                "--security-opt no-new-privileges",
                "--user " + UID + ":" + UID,
                "--memory " + MEMORY,
                "--cpus " + CPUS,
                "--pids-limit 256"));
        for (FilesystemRoot root : policy.filesystem().roots()) {
            flags.add("-v " + root.path() + ":" + root.path() + (root.access() == FileAccess.READ_ONLY ? ":ro" : ""));
        }
        auditMount(policy).directory().ifPresent(directory -> flags.add("-v " + directory + ":" + directory));
        if (policy.egress().rules().isEmpty()) {
            flags.add("--network none");
        }
        flags.add("-i");
        return flags;
    }

    /** A Pod with the hardened security context, and a NetworkPolicy with the policy's egress. */
    public static String kubernetes(SecurityPolicy policy) {
        String name = dnsLabel(policy.server().name());
        StringBuilder out = new StringBuilder();
        out.append("apiVersion: v1\nkind: Pod\nmetadata:\n  name: ")
                .append(name)
                .append("\n  labels:\n    app: ")
                .append(name)
                .append('\n')
                .append("spec:\n  automountServiceAccountToken: false\n")
                .append("  securityContext:\n    runAsNonRoot: true\n    runAsUser: ")
                .append(UID)
                .append("\n    runAsGroup: ")
                .append(UID)
                .append("\n    fsGroup: ")
                .append(UID)
                .append("\n    seccompProfile:\n      type: RuntimeDefault\n")
                .append("  containers:\n    - name: server\n      image: <image>\n")
                .append(
                        "      securityContext:\n        allowPrivilegeEscalation: false\n        readOnlyRootFilesystem: true\n")
                .append("        capabilities:\n          drop: [ALL]\n")
                .append("      resources:\n        limits:\n          memory: 512Mi\n          cpu: \"")
                .append(CPUS)
                .append("\"\n")
                .append("      volumeMounts:\n        - name: tmp\n          mountPath: /tmp\n");
        List<FilesystemRoot> roots = policy.filesystem().roots();
        for (int i = 0; i < roots.size(); i++) {
            out.append("        - name: root-")
                    .append(i)
                    .append("\n          mountPath: ")
                    .append(quote(roots.get(i).path().toString()))
                    .append("\n          readOnly: ")
                    .append(roots.get(i).access() == FileAccess.READ_ONLY)
                    .append('\n');
        }
        Optional<Path> audit = auditMount(policy).directory();
        audit.ifPresent(directory -> out.append("        - name: audit\n          mountPath: ")
                .append(quote(directory.toString()))
                .append('\n'));
        out.append("  volumes:\n    - name: tmp\n      emptyDir: {}\n");
        audit.ifPresent(directory -> out.append(
                        "    - name: audit  # replace hostPath with a persistent volume writable by the server's user\n")
                .append("      hostPath:\n        path: ")
                .append(quote(directory.toString()))
                .append("\n        type: DirectoryOrCreate\n"));
        for (int i = 0; i < roots.size(); i++) {
            out.append("    - name: root-")
                    .append(i)
                    .append("  # replace hostPath with the volume that holds this data\n")
                    .append("      hostPath:\n        path: ")
                    .append(quote(roots.get(i).path().toString()))
                    .append("\n        type: Directory\n");
        }
        out.append("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: ")
                .append(name)
                .append("-egress\nspec:\n  podSelector:\n    matchLabels:\n      app: ")
                .append(name)
                .append("\n  policyTypes: [Ingress, Egress]\n  ingress: []\n");
        List<String> egress = new ArrayList<>();
        List<String> byName = new ArrayList<>();
        for (EgressRule rule : policy.egress().rules()) {
            if (rule.allowAddresses().isEmpty()) {
                byName.add(
                        rule.anyPublicHost()
                                ? rule.scheme() + " to any public host on port " + rule.port()
                                : rule.scheme() + "://" + rule.host() + ":" + rule.port());
                continue;
            }
            for (Cidr cidr : rule.allowAddresses()) {
                egress.add("    - to:\n        - ipBlock:\n            cidr: " + cidr
                        + "\n      ports:\n        - protocol: TCP\n          port: " + rule.port() + "\n");
            }
        }
        if (!byName.isEmpty()) {
            egress.add(
                    "    # allowed by name in the policy; a NetworkPolicy matches only addresses, so add their CIDRs\n"
                            + "    # or route them through an egress proxy: " + String.join(", ", byName) + "\n"
                            + "    - to:\n        - namespaceSelector:\n            matchLabels:\n"
                            + "              kubernetes.io/metadata.name: kube-system\n"
                            + "      ports:\n        - protocol: UDP\n          port: 53\n        - protocol: TCP\n          port: 53\n");
        }
        out.append(egress.isEmpty() ? "  egress: []\n" : "  egress:\n" + String.join("", egress));
        return out.toString();
    }

    /** Directories of the image (or the kernel's) that no mount may cover or hide. */
    private static final List<Path> IMAGE_DIRECTORIES = Stream.of(
                    "/app", "/opt", "/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/proc", "/sys", "/dev", "/tmp")
            .map(Path::of)
            .toList();

    /**
     * The audit file's directory, mounted writable from the host so the records outlive the
     * container (a tmpfs would lose them; the root is read-only): {@code directory} when it can be
     * mounted, {@code problem} when the policy's audit file is somewhere no mount should go.
     * Neither when there is no audit file or a writable root already holds it.
     */
    private record AuditMount(Optional<Path> directory, Optional<String> problem) {}

    private static AuditMount auditMount(SecurityPolicy policy) {
        Optional<Path> file = policy.audit().file();
        if (file.isEmpty()) {
            return new AuditMount(Optional.empty(), Optional.empty());
        }
        if (!file.get().isAbsolute()) {
            return new AuditMount(
                    Optional.empty(),
                    Optional.of("audit.file " + Untrusted.text(file.get().toString())
                            + " is relative: in the image it would resolve under "
                            + IMAGE_POLICY.substring(0, IMAGE_POLICY.lastIndexOf('/'))
                            + ", on the read-only root; give an absolute path in a directory of its own"));
        }
        Path directory = file.get().normalize().getParent();
        boolean inWritableRoot = policy.filesystem().roots().stream()
                .anyMatch(root -> directory.startsWith(root.path()) && root.access() != FileAccess.READ_ONLY);
        if (inWritableRoot) {
            return new AuditMount(Optional.empty(), Optional.empty());
        }
        for (Path reserved : IMAGE_DIRECTORIES) {
            boolean tmpChild = reserved.equals(Path.of("/tmp")) && !directory.equals(reserved);
            if (!tmpChild && (directory.startsWith(reserved) || reserved.startsWith(directory))) {
                return new AuditMount(
                        Optional.empty(),
                        Optional.of("the directory of audit.file "
                                + Untrusted.text(file.get().toString()) + " cannot be mounted: it "
                                + (reserved.startsWith(directory) ? "holds " : "lies in ") + reserved
                                + ", which a mount would hide; put the audit file in a directory of its own,"
                                + " such as /var/log/mcp-secure"));
            }
        }
        return new AuditMount(Optional.of(directory), Optional.empty());
    }

    private static String dnsLabel(String name) {
        String label =
                name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-").replaceAll("^-+|-+$", "");
        return label.isEmpty() ? "mcp-server" : label;
    }

    private static String quote(String text) {
        return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
