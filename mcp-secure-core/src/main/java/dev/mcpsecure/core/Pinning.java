package dev.mcpsecure.core;

import com.nimbusds.jose.jwk.JWKSet;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.PinningPolicy;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.core.internal.pinning.LockSignatures;
import dev.mcpsecure.core.internal.pinning.ToolLint;
import dev.mcpsecure.core.internal.pipeline.Pipeline;
import dev.mcpsecure.core.internal.pipeline.ToolSurface;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Start-up steps of tool pinning that {@link SecureMcpServer} and the lock command share. */
final class Pinning {

    private static final Logger LOG = LoggerFactory.getLogger("dev.mcpsecure.core");

    private Pinning() {}

    /**
     * The tool surface for {@code pinning}: with a lockfile, read and (when the policy names a
     * key) its signature verified first.
     *
     * @throws PinningException when the lockfile is missing, malformed, or its required signature
     *     is missing or does not verify
     */
    static ToolSurface surface(PinningPolicy pinning, Pipeline pipeline) {
        if (!pinning.enabled()) {
            LOG.warn("tool definitions are not pinned: set pinning.lockfile in the policy and run the lock command"
                    + " so that a changed tool definition cannot reach clients unreviewed");
            return new ToolSurface(null, null, pipeline);
        }
        Path file = pinning.lockfile().orElseThrow();
        return new ToolSurface(read(pinning, file), file.getFileName().toString(), pipeline);
    }

    /** Reads and, where the policy asks, verifies the lockfile at {@code file}. */
    static Lockfile read(PinningPolicy pinning, Path file) {
        try {
            byte[] bytes = Lockfile.readBytes(file);
            Lockfile lockfile = Lockfile.parse(bytes, file.toString());
            if (pinning.signature().isPresent()) {
                verify(bytes, file, pinning.signature().get());
            }
            return lockfile;
        } catch (IOException e) {
            throw new PinningException(List.of("cannot read lockfile " + file + ": " + e.getMessage()));
        }
    }

    private static void verify(byte[] lockfile, Path file, PinningPolicy.SignatureKey key) {
        Path signatureFile = Lockfile.signatureFile(file);
        String signature;
        try {
            signature = Files.readString(signatureFile, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new PinningException(List.of("the policy requires a signed lockfile, but " + signatureFile
                    + " does not exist; sign it with the lock command's --sign-key"));
        } catch (IOException e) {
            throw new PinningException(List.of("cannot read " + signatureFile + ": " + e.getMessage()));
        }
        JWKSet keys;
        try {
            keys = key.publicKey().isPresent()
                    ? LockSignatures.publicKeys(key.publicKey().get())
                    : LockSignatures.publicKeys(key.jwksUrl().orElseThrow());
        } catch (IOException | IllegalArgumentException e) {
            throw new PinningException(List.of("cannot load the lockfile's public key: " + e.getMessage()));
        }
        String problem = LockSignatures.problem(lockfile, signature, keys, signatureFile.toString());
        if (problem != null) {
            throw new PinningException(List.of(problem));
        }
    }

    /**
     * Runs the poisoning lint over {@code tools}, logs and audits each finding ({@code
     * TOOL_DEFINITION_SUSPICIOUS}) and returns them as sentences.
     */
    static List<String> lint(SecurityPolicy policy, List<McpSchema.Tool> tools, Pipeline pipeline) {
        return lint(policy, tools, pipeline, null);
    }

    /** As {@link #lint(SecurityPolicy, List, Pipeline)}, keeping only the findings on {@code onlyTool} when not null. */
    static List<String> lint(SecurityPolicy policy, List<McpSchema.Tool> tools, Pipeline pipeline, String onlyTool) {
        boolean strict = policy.pinning().lint() == PinningPolicy.Lint.STRICT;
        return new ToolLint(policy.egress())
                .check(tools).stream()
                        .filter(finding -> onlyTool == null || finding.tool().equals(onlyTool))
                        .map(finding -> {
                            LOG.warn("tool poisoning lint: {}", finding);
                            pipeline.auditSurface(
                                    finding.tool(),
                                    Decision.deny(
                                            ReasonCode.TOOL_DEFINITION_SUSPICIOUS,
                                            (strict
                                                            ? "refused (pinning.lint: strict): "
                                                            : "reported (pinning.lint: report): ")
                                                    + finding),
                                    !strict);
                            return finding.toString();
                        })
                        .toList();
    }
}
