package dev.mcpsecure.core;

import dev.mcpsecure.api.AuditPolicy;
import dev.mcpsecure.api.InvalidPolicyException;
import dev.mcpsecure.api.PinningPolicy;
import dev.mcpsecure.api.ProgramProfile;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.core.internal.exec.PolicyCommandGuard;
import dev.mcpsecure.core.internal.policy.PolicyBinder;
import dev.mcpsecure.core.internal.policy.PolicyBinder.Format;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads a {@link SecurityPolicy} from a YAML or JSON file or text.
 *
 * <p>Strict: unknown keys, wrong types, malformed durations and sizes, relative paths, duplicate
 * keys or tools, TTLs above the cap, a non-loopback bind address without the opt-in, wildcard
 * hosts deeper than one label and every other rule the policy records enforce are reported
 * together in one {@link InvalidPolicyException}, each problem with its line, column, key path and
 * fix. Nothing is half-loaded. An empty document gives {@link SecurityPolicy#denyAll()}. YAML
 * aliases and multiple documents are refused. {@code docs/policy.md} describes every key.
 *
 * <p>Thread-safe and stateless.
 */
public final class PolicyLoader {

    /** The exit code of a command-line tool whose policy file has problems. */
    public static final int EXIT_INVALID_POLICY = 2;
    /** The exit code of a command-line tool whose policy file cannot be read. */
    public static final int EXIT_NO_INPUT = 66;

    /** The largest policy file read: 1 MiB. */
    public static final long MAX_POLICY_BYTES = 1L << 20;

    private static final Logger LOG = LoggerFactory.getLogger("dev.mcpsecure.core.policy");

    private PolicyLoader() {}

    /**
     * Loads the policy file at {@code file}: JSON when its name ends in {@code .json}, YAML when
     * in {@code .yaml} or {@code .yml}.
     *
     * @throws InvalidPolicyException listing every problem, including an unknown file type, a file
     *     over {@link #MAX_POLICY_BYTES} or text that is not UTF-8
     * @throws IOException if the file cannot be read
     */
    public static SecurityPolicy load(Path file) throws IOException {
        String source = file.toString();
        String name =
                file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
        Format format;
        if (name.endsWith(".json")) {
            format = Format.JSON;
        } else if (name.endsWith(".yaml") || name.endsWith(".yml")) {
            format = Format.YAML;
        } else {
            throw PolicyBinder.problem(source, "unknown policy file type; name the file *.yaml, *.yml or *.json");
        }
        long size = Files.size(file);
        if (size > MAX_POLICY_BYTES) {
            throw PolicyBinder.problem(
                    source,
                    "the file has " + size + " bytes; a policy file is at most " + MAX_POLICY_BYTES + " bytes (1 MiB)");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(Files.readAllBytes(file)))
                    .toString();
        } catch (CharacterCodingException e) {
            throw PolicyBinder.problem(source, "the file is not valid UTF-8; save it as UTF-8");
        }
        return warned(resolvePinning(PolicyBinder.bind(text, format, source), file), source);
    }

    /** Resolves the pinning section's relative paths against the policy file's folder. */
    private static SecurityPolicy resolvePinning(SecurityPolicy policy, Path file) {
        PinningPolicy pinning = policy.pinning();
        Path folder = file.toAbsolutePath().getParent();
        if (folder == null || !pinning.enabled()) {
            return policy;
        }
        PinningPolicy resolved = pinning.withLockfile(
                folder.resolve(pinning.lockfile().orElseThrow()).normalize());
        Optional<Path> publicKey = pinning.signature().flatMap(PinningPolicy.SignatureKey::publicKey);
        if (publicKey.isPresent()) {
            resolved = resolved.withPublicKey(folder.resolve(publicKey.get()).normalize());
        }
        return policy.withPinning(resolved);
    }

    /**
     * A command-line tool's policy file, loaded, or the exit code to return after the reason
     * was printed.
     *
     * @param policy the policy, or {@code null} when it could not be loaded
     * @param exitCode 0 when loaded, else {@link #EXIT_INVALID_POLICY} or {@link #EXIT_NO_INPUT}
     */
    public record CommandLineLoad(SecurityPolicy policy, int exitCode) {
        /** Whether the policy loaded. */
        public boolean loaded() {
            return policy != null;
        }
    }

    /**
     * Loads {@code file} for a command-line tool: on failure prints every problem (or why the
     * file cannot be read) to {@code err}, never a stack trace, and says which exit code to use.
     */
    public static CommandLineLoad loadForCommandLine(Path file, PrintStream err) {
        try {
            return new CommandLineLoad(load(file), 0);
        } catch (InvalidPolicyException e) {
            err.println(e.getMessage());
            return new CommandLineLoad(null, EXIT_INVALID_POLICY);
        } catch (NoSuchFileException e) {
            err.println(file + ": no such policy file");
            return new CommandLineLoad(null, EXIT_NO_INPUT);
        } catch (IOException e) {
            err.println(file + ": cannot read the policy file (" + e.getClass().getSimpleName() + ")");
            return new CommandLineLoad(null, EXIT_NO_INPUT);
        }
    }

    /**
     * Loads a policy from YAML text.
     *
     * @param source names the text in problems, such as where it came from
     * @throws InvalidPolicyException listing every problem
     */
    public static SecurityPolicy fromYaml(String yaml, String source) {
        return fromText(yaml, Format.YAML, source);
    }

    /**
     * Loads a policy from JSON text.
     *
     * @param source names the text in problems, such as where it came from
     * @throws InvalidPolicyException listing every problem
     */
    public static SecurityPolicy fromJson(String json, String source) {
        return fromText(json, Format.JSON, source);
    }

    private static SecurityPolicy fromText(String text, Format format, String source) {
        if (text.length() > MAX_POLICY_BYTES) {
            throw PolicyBinder.problem(
                    source,
                    "the text has " + text.length() + " characters; a policy is at most " + MAX_POLICY_BYTES
                            + " (1 MiB)");
        }
        return warned(PolicyBinder.bind(text, format, source), source);
    }

    /** Logs what is allowed but risky: shells and launchers listed as programs, git without its profile. */
    private static SecurityPolicy warned(SecurityPolicy policy, String source) {
        if (policy.audit().failMode() == AuditPolicy.FailMode.OPEN) {
            LOG.warn(
                    "{}: audit.failMode is open: when the audit log cannot be written, calls go on unaudited"
                            + " (lost events are only counted); remove it to withhold their results instead",
                    source);
        }
        policy.commands().programs().forEach((name, program) -> {
            if (PolicyCommandGuard.isLauncher(program.path())) {
                LOG.warn(
                        "{}: program '{}' ({}) is a shell or launcher; it runs only within its argument rules, but"
                                + " prefer listing the programs it would run",
                        source,
                        name,
                        program.path());
            }
            if (program.profile().equals(Optional.of(ProgramProfile.NONE))
                    && ProgramProfile.defaultFor(program.path()) == ProgramProfile.GIT) {
                LOG.warn(
                        "{}: program '{}' ({}) runs git with profile: none: the configuration, hooks and attributes of"
                                + " any repository it runs in can make it run commands (core.fsmonitor, hooks, filter"
                                + " drivers); remove 'profile: none' unless every such repository is trusted",
                        source,
                        name,
                        program.path());
            }
        });
        return policy;
    }
}
