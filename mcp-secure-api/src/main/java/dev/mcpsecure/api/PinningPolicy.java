package dev.mcpsecure.api;

import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How the server pins its tool surface: every tool definition it shows clients must match its
 * entry in a lockfile ({@code mcp-secure.lock}) written by the {@code lock} command and reviewed
 * like code.
 *
 * <p>With no lockfile the tools are not pinned (the server logs that it starts unpinned). With
 * one, a tool missing from the lockfile, a changed definition or a new risk class is drift:
 * {@link Mode#ENFORCE} refuses to start and names tool and field; {@link Mode#REPORT} starts but
 * withholds each drifted tool from {@code tools/list} and calls ({@code TOOL_DEFINITION_CHANGED}).
 * Tools added at runtime pass the same check before they become visible.
 *
 * @param mode what drift does; default {@link Mode#ENFORCE}
 * @param lockfile the lockfile; empty for no pinning. A relative path in a policy file is resolved
 *     against the policy file's folder
 * @param lint what the tool-poisoning lint does with its findings; default {@link Lint#REPORT}
 * @param signature the key the lockfile's signature must verify against; empty when the lockfile
 *     need not be signed
 */
public record PinningPolicy(Mode mode, Optional<Path> lockfile, Lint lint, Optional<SignatureKey> signature) {

    /** What drift does. */
    public enum Mode {
        /** Refuse to start, naming each drifted tool and field. */
        ENFORCE,
        /** Start, but withhold drifted tools from listing and calls, and audit them. */
        REPORT
    }

    /** What the poisoning lint does with a finding. */
    public enum Lint {
        /** Log and audit findings, and go on. */
        REPORT,
        /** A finding is an error: {@code lock} writes nothing and the server does not start. */
        STRICT
    }

    /**
     * Where the public key that verifies the lockfile's detached JWS ({@code <lockfile>.jws}) is.
     * Exactly one of the two is set.
     *
     * @param publicKey a file holding a JWK, a JWK set, or a PEM {@code PUBLIC KEY}
     * @param jwksUrl a JWKS URL: {@code https}, or {@code http} on a loopback host
     */
    public record SignatureKey(Optional<Path> publicKey, Optional<URI> jwksUrl) {

        /** Validates that exactly one source is set and that a JWKS URL is https or loopback http. */
        public SignatureKey {
            Checks checks = new Checks()
                    .check("publicKey", Checks.notNull(publicKey))
                    .check("jwksUrl", Checks.notNull(jwksUrl));
            if (publicKey != null && jwksUrl != null) {
                if (publicKey.isPresent() == jwksUrl.isPresent()) {
                    checks.check("publicKey", "name exactly one of publicKey (a JWK, JWK set or PEM file) and jwksUrl");
                }
                jwksUrl.ifPresent(url -> checks.check("jwksUrl", jwksUrlProblem(url)));
            }
            checks.throwIfAny();
        }

        /** The key in {@code file}. */
        public static SignatureKey file(Path file) {
            return new SignatureKey(Optional.of(file), Optional.empty());
        }

        /** The keys published at {@code url}. */
        public static SignatureKey jwks(URI url) {
            return new SignatureKey(Optional.empty(), Optional.of(url));
        }

        private static String jwksUrlProblem(URI url) {
            if ("https".equals(url.getScheme()) && url.getHost() != null) {
                return null;
            }
            if ("http".equals(url.getScheme()) && url.getHost() != null && Cidr.isLoopbackHost(url.getHost())) {
                return null;
            }
            return "jwksUrl " + Checks.quote(url.toString())
                    + " must be https (or http on a loopback host such as 127.0.0.1)";
        }
    }

    private static final PinningPolicy NONE =
            new PinningPolicy(Mode.ENFORCE, Optional.empty(), Lint.REPORT, Optional.empty());

    /** Validates every component; a signature key needs a lockfile. */
    public PinningPolicy {
        Checks checks = new Checks()
                .check("mode", Checks.notNull(mode))
                .check("lockfile", Checks.notNull(lockfile))
                .check("lint", Checks.notNull(lint))
                .check("signature", Checks.notNull(signature));
        if (lockfile != null && signature != null && lockfile.isEmpty() && signature.isPresent()) {
            checks.check("signature", "a signature needs a lockfile: set pinning.lockfile, such as mcp-secure.lock");
        }
        checks.throwIfAny();
    }

    /** No lockfile: tools are not pinned. */
    public static PinningPolicy none() {
        return NONE;
    }

    /** Pins against {@code lockfile} in enforce mode, lint reporting, no signature. */
    public static PinningPolicy enforce(Path lockfile) {
        return new PinningPolicy(Mode.ENFORCE, Optional.of(lockfile), Lint.REPORT, Optional.empty());
    }

    /** Whether a lockfile is configured. */
    public boolean enabled() {
        return lockfile.isPresent();
    }

    /** This policy with {@code lockfile} instead, such as one resolved against the policy file's folder. */
    public PinningPolicy withLockfile(Path lockfile) {
        return new PinningPolicy(mode, Optional.of(lockfile), lint, signature);
    }

    /** This policy with the signature key file at {@code publicKey} instead. */
    public PinningPolicy withPublicKey(Path publicKey) {
        return new PinningPolicy(mode, lockfile, lint, Optional.of(SignatureKey.file(publicKey)));
    }
}
