package dev.mcpsecure.core.internal.jwt;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.Untrusted;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The header rules every JWS mcp-secure checks shares, whoever signed it: bearer tokens (the HTTP
 * module's {@code JwtTokenVerifier}), the vault's identity tokens and lockfile signatures. One
 * place, so the three cannot drift apart again. A header passes when all of these hold:
 *
 * <ul>
 *   <li>Its algorithm is one of the caller's, which are all asymmetric signature algorithms:
 *       {@code none} and HS* cannot be allowed (see {@link #requireAsymmetric}). An unsigned token
 *       ({@code alg: none}) never gets here, since it does not parse as a JWS.
 *   <li>It names no key source of its own: no {@code jku}, {@code x5u}, {@code jwk} or {@code x5c}.
 *       Keys come only from what the caller trusts (a JWKS, pinned keys, the policy's key).
 *   <li>It has no {@code crit} parameter (none of ours is understood, and an empty list is not
 *       valid JWS either).
 *   <li>When the caller asks, it has a non-empty {@code kid}, and a {@code typ}, when present, is
 *       one of the caller's types (case-insensitive).
 * </ul>
 *
 * <p>A refusal carries a stable {@link Rule} and a reason phrase that reads after its subject
 * ("the token", "the identity token from role x", a file name); the values it quotes from the
 * header are made safe by {@link Untrusted#text}. Immutable and thread-safe.
 */
public final class JwsHeaderRules {

    /** Which rule a header broke; stable, for callers and tests. */
    public enum Rule {
        /** The algorithm is not among the caller's (this includes every HS* and {@code none}). */
        ALGORITHM_NOT_ALLOWED,
        /** A {@code jku}, {@code x5u}, {@code jwk} or {@code x5c} header. */
        KEY_SOURCE_IN_HEADER,
        /** A {@code crit} header. */
        CRITICAL_HEADER,
        /** No {@code kid} where the caller needs one. */
        KEY_ID_MISSING,
        /** A {@code typ} the caller does not accept. */
        TYPE_NOT_ACCEPTED
    }

    /**
     * Why a header was refused.
     *
     * @param rule the rule it broke
     * @param reason a phrase that follows the subject, such as {@code "has critical header parameters
     *     [exp]"}; printable ASCII
     */
    public record Refusal(Rule rule, String reason) {

        public Refusal {
            Objects.requireNonNull(rule, "rule");
            Objects.requireNonNull(reason, "reason");
        }

        /** {@code subject} followed by the reason: {@code "the token has no kid header ..."}. */
        public String message(String subject) {
            return subject + " " + reason;
        }

        /** A denial with {@code code} and {@link #message(String)}. */
        public PolicyViolationException toViolation(ReasonCode code, String subject) {
            return new PolicyViolationException(Decision.deny(code, message(subject)));
        }
    }

    private final Set<JWSAlgorithm> algorithms;
    private final String allowedNames;
    private final boolean keyIdRequired;
    private final Set<String> types;
    private final Set<String> acceptedTypes;
    private final String typeNames;

    private JwsHeaderRules(Set<JWSAlgorithm> algorithms, boolean keyIdRequired, Set<String> types) {
        this.algorithms = Set.copyOf(requireAsymmetric(algorithms));
        this.allowedNames =
                algorithms.stream().map(JWSAlgorithm::getName).sorted().collect(Collectors.joining(", ", "[", "]"));
        this.keyIdRequired = keyIdRequired;
        this.acceptedTypes = Set.copyOf(types);
        this.types = types.stream().map(t -> t.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
        this.typeNames = types.stream().sorted().collect(Collectors.joining(", ", "[", "]"));
    }

    /**
     * Rules accepting exactly {@code algorithms}, any {@code kid} or none, any {@code typ}.
     *
     * @throws IllegalArgumentException as {@link #requireAsymmetric} does
     */
    public static JwsHeaderRules accepting(Set<JWSAlgorithm> algorithms) {
        return new JwsHeaderRules(algorithms, false, Set.of());
    }

    /** These rules, also refusing a header without a non-empty {@code kid}. */
    public JwsHeaderRules requiringKeyId() {
        return new JwsHeaderRules(algorithms, true, acceptedTypes);
    }

    /** These rules, also refusing a {@code typ} that is present and not one of {@code accepted}. */
    public JwsHeaderRules acceptingTypes(Set<String> accepted) {
        if (accepted == null || accepted.isEmpty()) {
            throw new IllegalArgumentException("list at least one typ, such as JWT");
        }
        return new JwsHeaderRules(algorithms, keyIdRequired, accepted);
    }

    /** The accepted algorithms. */
    public Set<JWSAlgorithm> algorithms() {
        return algorithms;
    }

    /**
     * Returns {@code algorithms} when all of them are asymmetric signature algorithms.
     *
     * @throws IllegalArgumentException naming the first that is {@code none} (in any case) or HS*,
     *     since a verifier holding public keys must never accept unsigned or MAC-signed tokens; or
     *     when the set is empty
     */
    public static Set<JWSAlgorithm> requireAsymmetric(Set<JWSAlgorithm> algorithms) {
        if (algorithms == null || algorithms.isEmpty()) {
            throw new IllegalArgumentException("list at least one algorithm, such as RS256");
        }
        for (JWSAlgorithm alg : algorithms) {
            String name = alg.getName().toUpperCase(Locale.ROOT);
            if (name.equals("NONE") || JWSAlgorithm.Family.HMAC_SHA.contains(alg)) {
                throw new IllegalArgumentException("algorithm " + alg + " cannot be allowed: a verifier with public"
                        + " keys must never accept unsigned or MAC-signed tokens");
            }
            if (!JWSAlgorithm.Family.SIGNATURE.contains(alg)) {
                throw new IllegalArgumentException("algorithm " + alg + " is not a JWS signature algorithm");
            }
        }
        return algorithms;
    }

    /** Why {@code header} is refused, or empty when it passes every rule. */
    public Optional<Refusal> refusal(JWSHeader header) {
        JWSAlgorithm alg = header.getAlgorithm();
        if (alg == null || !algorithms.contains(alg)) {
            return refuse(
                    Rule.ALGORITHM_NOT_ALLOWED,
                    "is signed with " + (alg == null ? "no algorithm" : clip(alg.getName()))
                            + ", which is not among the allowed " + allowedNames);
        }
        if (header.getJWKURL() != null
                || header.getX509CertURL() != null
                || header.getJWK() != null
                || header.getX509CertChain() != null) {
            return refuse(
                    Rule.KEY_SOURCE_IN_HEADER,
                    "names its own key source (jku, x5u, jwk or x5c), which is never trusted");
        }
        if (header.getCriticalParams() != null) {
            return refuse(
                    Rule.CRITICAL_HEADER,
                    "has critical header parameters " + clip(String.valueOf(header.getCriticalParams())));
        }
        JOSEObjectType type = header.getType();
        if (!types.isEmpty() && type != null && !types.contains(type.getType().toLowerCase(Locale.ROOT))) {
            return refuse(Rule.TYPE_NOT_ACCEPTED, "has typ " + clip(type.getType()) + ", not one of " + typeNames);
        }
        if (keyIdRequired && (header.getKeyID() == null || header.getKeyID().isEmpty())) {
            return refuse(Rule.KEY_ID_MISSING, "has no kid header naming its signing key");
        }
        return Optional.empty();
    }

    /**
     * @throws PolicyViolationException with {@code code} and a message starting with {@code
     *     subject}, when {@code header} breaks a rule
     */
    public void check(JWSHeader header, ReasonCode code, String subject) {
        Optional<Refusal> refusal = refusal(header);
        if (refusal.isPresent()) {
            throw refusal.get().toViolation(code, subject);
        }
    }

    /**
     * A value taken from a token or signature, fit for messages and audit lines: the one
     * sanitizer ({@link Untrusted#text}), at most 100 characters. Headers that must be ASCII pass
     * it through their own header encoding as well.
     */
    public static String clip(String value) {
        return Untrusted.text(value, 100);
    }

    private static Optional<Refusal> refuse(Rule rule, String reason) {
        return Optional.of(new Refusal(rule, reason));
    }

    /** The algorithms and options; for logs. */
    @Override
    public String toString() {
        return "JwsHeaderRules[algorithms=" + allowedNames + ", kidRequired=" + keyIdRequired + ", types=" + typeNames
                + "]";
    }
}
