package dev.mcpsecure.core;

import dev.mcpsecure.api.PinningPolicy;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.core.internal.pinning.LockSignatures;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The {@code lock} command of every server started through {@link SecureStdioServer} or {@code
 * SecureHttpLauncher}: {@code <server> lock --policy <policy.yaml> [--sign-key <key>] [--check]}.
 *
 * <p>It registers the app's tools exactly as a start would (nothing is served), runs the poisoning
 * lint (findings on stderr; with {@code pinning.lint: strict} they stop it, exit {@value
 * #EXIT_DATA}, and nothing is written), and writes the lockfile the policy's {@code
 * pinning.lockfile} names, atomically. With {@code --sign-key} (a JWK with its private part, or a
 * PEM {@code PRIVATE KEY}) it also writes the detached signature {@code <lockfile>.jws}. With
 * {@code --check} it writes nothing and exits 0 only when the lockfile on disk is exactly what it
 * would write (and its signature verifies, when the policy requires one), else {@value #EXIT_DATA}
 * with the drift on stderr: the CI step that keeps lockfiles current. Nothing goes to stdout
 * except the one-line result.
 */
public final class LockCommand {

    /** The word that selects this command as the first argument. */
    public static final String NAME = "lock";
    /** Written, or up to date. */
    public static final int EXIT_OK = 0;
    /** Lint findings in strict mode, or (with --check) a lockfile that is not current. */
    public static final int EXIT_DATA = 65;
    /** The arguments are wrong. */
    public static final int EXIT_USAGE = 64;

    private LockCommand() {}

    /** Whether {@code args} ask for this command. */
    public static boolean requested(String[] args) {
        return args.length > 0 && NAME.equals(args[0]);
    }

    /**
     * Runs the command.
     *
     * @param args the arguments, starting with {@value #NAME}
     * @param env where {@code MCP_SECURE_POLICY} is read when no {@code --policy} is given
     * @param tools adds the app's tools to the builder, as at start
     */
    public static int run(
            String[] args,
            Map<String, String> env,
            PrintStream out,
            PrintStream err,
            Consumer<SecureMcpServer.Builder> tools) {
        String policyFile = env.get(SecureStdioServer.POLICY_ENV);
        Path signKey = null;
        boolean check = false;
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        for (int i = 0; i < rest.size(); i++) {
            String arg = rest.get(i);
            String value = i + 1 < rest.size() ? rest.get(i + 1) : null;
            if (arg.equals("--policy") && value != null) {
                policyFile = value;
                i++;
            } else if (arg.equals("--sign-key") && value != null) {
                signKey = Path.of(value);
                i++;
            } else if (arg.equals("--check")) {
                check = true;
            } else {
                return usage(err, "unknown argument '" + arg + "'");
            }
        }
        if (policyFile == null || policyFile.isBlank()) {
            return usage(err, "no policy file");
        }
        if (check && signKey != null) {
            return usage(err, "--check writes nothing, so it takes no --sign-key");
        }
        PolicyLoader.CommandLineLoad loaded = PolicyLoader.loadForCommandLine(Path.of(policyFile), err);
        if (!loaded.loaded()) {
            return loaded.exitCode();
        }
        SecurityPolicy policy = loaded.policy();
        PinningPolicy pinning = policy.pinning();
        if (!pinning.enabled()) {
            err.println("the policy names no lockfile: add\n  pinning:\n    lockfile: mcp-secure.lock\n" + "to "
                    + policyFile + " and run lock again");
            return EXIT_DATA;
        }
        Path lockfile = pinning.lockfile().orElseThrow();
        SecureMcpServer.Builder builder = SecureMcpServer.builder(policy);
        if (!ServerStart.addTools(builder, tools, err)) {
            return ServerStart.EXIT_TOOLS_FAILED;
        }
        List<String> findings = builder.lint();
        findings.forEach(finding -> err.println("lint: " + finding));
        if (!findings.isEmpty() && pinning.lint() == PinningPolicy.Lint.STRICT) {
            err.println(findings.size() + " poisoning finding(s) and pinning.lint is strict: nothing written."
                    + " Fix the tool definitions, or set pinning.lint: report to accept them after review.");
            return EXIT_DATA;
        }
        Lockfile locked = builder.lock();
        byte[] bytes = locked.toBytes();
        try {
            return check
                    ? check(policy, lockfile, locked, bytes, out, err)
                    : write(lockfile, bytes, signKey, pinning, out, err);
        } catch (IOException e) {
            err.println("cannot write " + lockfile + ": " + e.getMessage());
            return PolicyLoader.EXIT_NO_INPUT;
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            return EXIT_USAGE;
        }
    }

    private static int write(
            Path lockfile, byte[] bytes, Path signKey, PinningPolicy pinning, PrintStream out, PrintStream err)
            throws IOException {
        String signature = signKey == null ? null : LockSignatures.sign(bytes, signKey);
        Lockfile.writeAtomically(lockfile, bytes);
        Path signatureFile = Lockfile.signatureFile(lockfile);
        if (signature != null) {
            Lockfile.writeSignature(lockfile, signature);
            out.println("wrote " + lockfile + " and " + signatureFile);
        } else {
            out.println("wrote " + lockfile);
            if (pinning.signature().isPresent()) {
                err.println("the policy requires a signed lockfile: run lock again with --sign-key <private key>,"
                        + " or the server will not start");
            } else if (Files.exists(signatureFile)) {
                err.println(signatureFile + " no longer matches the lockfile; sign again with --sign-key or delete it");
            }
        }
        return EXIT_OK;
    }

    private static int check(
            SecurityPolicy policy, Path lockfile, Lockfile locked, byte[] bytes, PrintStream out, PrintStream err)
            throws IOException {
        byte[] onDisk;
        try {
            onDisk = Files.readAllBytes(lockfile);
        } catch (NoSuchFileException e) {
            err.println(lockfile + " does not exist; run lock and commit it");
            return EXIT_DATA;
        }
        if (!Arrays.equals(onDisk, bytes)) {
            err.println(lockfile + " is not current:");
            try {
                Lockfile current = Lockfile.parse(onDisk, lockfile.toString());
                describeDrift(current, locked, err);
            } catch (PinningException e) {
                e.problems().forEach(problem -> err.println("  " + problem));
            }
            err.println("run lock, review the diff and commit it");
            return EXIT_DATA;
        }
        try {
            Pinning.read(policy.pinning(), lockfile);
        } catch (PinningException e) {
            e.problems().forEach(err::println);
            return EXIT_DATA;
        }
        out.println(lockfile + " is current");
        return EXIT_OK;
    }

    private static void describeDrift(Lockfile onDisk, Lockfile wanted, PrintStream err) {
        for (Lockfile.ToolPin pin : wanted.tools()) {
            Lockfile.ToolPin old = onDisk.tool(pin.name()).orElse(null);
            if (old == null) {
                err.println("  tool '" + pin.name() + "' is new");
            } else if (!old.equals(pin)) {
                StringBuilder fields = new StringBuilder();
                for (String field : ToolPins.PINNED_FIELDS) {
                    if (!Objects.equals(old.fields().get(field), pin.fields().get(field))) {
                        fields.append(fields.length() == 0 ? "" : ", ").append(field);
                    }
                }
                if (!old.risks().equals(pin.risks())) {
                    fields.append(fields.length() == 0 ? "" : ", ")
                            .append("risks ")
                            .append(old.risks())
                            .append(" -> ")
                            .append(pin.risks());
                }
                err.println("  tool '" + pin.name() + "' changed: " + fields);
            }
        }
        for (Lockfile.ToolPin old : onDisk.tools()) {
            if (wanted.tool(old.name()).isEmpty()) {
                err.println("  tool '" + old.name() + "' is gone");
            }
        }
        if (!onDisk.programs().equals(wanted.programs())) {
            err.println("  programs changed: " + onDisk.programs() + " -> " + wanted.programs());
        }
        if (!onDisk.server().equals(wanted.server())) {
            err.println("  server renamed: '" + onDisk.server() + "' -> '" + wanted.server() + "'");
        }
    }

    private static int usage(PrintStream err, String problem) {
        err.println(problem + "\nusage: <server> lock --policy <policy.yaml> [--sign-key <private key file>] [--check]"
                + "   (or set " + SecureStdioServer.POLICY_ENV + ")");
        return EXIT_USAGE;
    }
}
