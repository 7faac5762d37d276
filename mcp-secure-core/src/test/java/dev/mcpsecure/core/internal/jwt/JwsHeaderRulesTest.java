package dev.mcpsecure.core.internal.jwt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.util.Base64;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.core.internal.jwt.JwsHeaderRules.Rule;
import java.net.URI;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link JwsHeaderRules} header by header: which rule each hostile header breaks, and the wording. */
class JwsHeaderRulesTest {

    static final JwsHeaderRules RULES = JwsHeaderRules.accepting(Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256))
            .requiringKeyId()
            .acceptingTypes(Set.of("JWT", "at+jwt"));

    static Stream<Arguments> hostile() {
        return Stream.of(
                row("HS256", header(JWSAlgorithm.HS256, h -> h), Rule.ALGORITHM_NOT_ALLOWED, "not among the allowed"),
                row(
                        "alg NoNe in another case",
                        header(new JWSAlgorithm("NoNe"), h -> h),
                        Rule.ALGORITHM_NOT_ALLOWED,
                        "is signed with NoNe, which is not among the allowed [ES256, RS256]"),
                row(
                        "an allowed family, not an allowed algorithm",
                        header(JWSAlgorithm.PS256, h -> h),
                        Rule.ALGORITHM_NOT_ALLOWED,
                        "not among the allowed"),
                row(
                        "jku",
                        header(h -> h.jwkURL(URI.create("https://evil.test/jwks"))),
                        Rule.KEY_SOURCE_IN_HEADER,
                        "names its own key source (jku, x5u, jwk or x5c), which is never trusted"),
                row(
                        "x5u",
                        header(h -> h.x509CertURL(URI.create("https://evil.test/cert"))),
                        Rule.KEY_SOURCE_IN_HEADER,
                        "jku, x5u, jwk or x5c"),
                row("jwk", header(h -> h.jwk(attackerKey())), Rule.KEY_SOURCE_IN_HEADER, "jku, x5u, jwk or x5c"),
                row(
                        "x5c",
                        header(h -> h.x509CertChain(List.of(Base64.encode(new byte[] {1, 2, 3})))),
                        Rule.KEY_SOURCE_IN_HEADER,
                        "jku, x5u, jwk or x5c"),
                row(
                        "crit",
                        header(h -> h.criticalParams(Set.of("exp")).customParam("exp", 1)),
                        Rule.CRITICAL_HEADER,
                        "has critical header parameters [exp]"),
                row(
                        "crit naming a parameter with a line break",
                        header(h -> h.criticalParams(Set.of("a\nb"))),
                        Rule.CRITICAL_HEADER,
                        "has critical header parameters [a\\u000ab]"),
                row(
                        "no kid",
                        new JWSHeader.Builder(JWSAlgorithm.RS256).build(),
                        Rule.KEY_ID_MISSING,
                        "has no kid header naming its signing key"),
                row("an empty kid", header(h -> h.keyID("")), Rule.KEY_ID_MISSING, "has no kid"),
                row(
                        "typ of another kind of token",
                        header(h -> h.type(new JOSEObjectType("secevent+jwt"))),
                        Rule.TYPE_NOT_ACCEPTED,
                        "has typ secevent+jwt, not one of [JWT, at+jwt]"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostile")
    void isRefusedByTheRuleItBreaks(String why, JWSHeader header, Rule rule, String reason) {
        assertThat(RULES.refusal(header)).as(why).hasValueSatisfying(refusal -> {
            assertThat(refusal.rule()).isEqualTo(rule);
            assertThat(refusal.reason()).contains(reason);
            assertThat(refusal.message("the token")).startsWith("the token " + refusal.reason());
        });
        PolicyViolationException e = catchThrowableOfType(
                PolicyViolationException.class, () -> RULES.check(header, ReasonCode.TOKEN_INVALID, "the token"));
        assertThat(e.decision().reason()).isEqualTo(ReasonCode.TOKEN_INVALID);
        assertThat(e.getMessage())
                .contains("the token " + RULES.refusal(header).orElseThrow().reason());
    }

    @Test
    void anHonestHeaderPasses() {
        assertThat(RULES.refusal(header(h -> h))).isEmpty();
        assertThat(RULES.refusal(header(h -> h.type(new JOSEObjectType("AT+JWT")))))
                .as("typ is compared without case")
                .isEmpty();
        assertThat(RULES.refusal(
                        new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("k").build()))
                .as("no typ")
                .isEmpty();
    }

    @Test
    void withoutOptionsAMissingKidAndAnyTypPass() {
        JwsHeaderRules plain = JwsHeaderRules.accepting(Set.of(JWSAlgorithm.ES256));

        assertThat(plain.refusal(new JWSHeader.Builder(JWSAlgorithm.ES256)
                        .type(new JOSEObjectType("anything"))
                        .build()))
                .isEmpty();
    }

    @Test
    void unsignedAndMacAlgorithmsCannotBeAllowed() {
        assertThatThrownBy(() -> JwsHeaderRules.accepting(Set.of(JWSAlgorithm.RS256, JWSAlgorithm.HS256)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("HS256 cannot be allowed");
        assertThatThrownBy(() -> JwsHeaderRules.accepting(Set.of(new JWSAlgorithm("none"))))
                .hasMessageContaining("none cannot be allowed");
        assertThatThrownBy(() -> JwsHeaderRules.accepting(Set.of(new JWSAlgorithm("NONE"))))
                .hasMessageContaining("cannot be allowed");
        assertThatThrownBy(() -> JwsHeaderRules.accepting(Set.of(new JWSAlgorithm("RSA-OAEP"))))
                .hasMessageContaining("is not a JWS signature algorithm");
        assertThatThrownBy(() -> JwsHeaderRules.accepting(Set.of())).hasMessageContaining("at least one");
    }

    @Test
    void clipEscapesControlCharactersAndKeepsAtMostOneHundredCharacters() {
        // the one sanitizer's rule (Untrusted.text); headers that must be ASCII encode it again
        assertThat(JwsHeaderRules.clip("a\r\nb\u00e9")).isEqualTo("a\\u000d\\u000ab\u00e9");
        assertThat(JwsHeaderRules.clip("x".repeat(150))).isEqualTo("x".repeat(100) + "...");
    }

    static Arguments row(String why, JWSHeader header, Rule rule, String reason) {
        return Arguments.of(why, header, rule, reason);
    }

    static JWSHeader header(UnaryOperator<JWSHeader.Builder> change) {
        return header(JWSAlgorithm.RS256, change);
    }

    static JWSHeader header(JWSAlgorithm alg, UnaryOperator<JWSHeader.Builder> change) {
        return change.apply(new JWSHeader.Builder(alg).keyID("k1")).build();
    }

    static ECKey attackerKey() {
        try {
            return new ECKeyGenerator(Curve.P_256).keyID("k1").generate().toPublicJWK();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
