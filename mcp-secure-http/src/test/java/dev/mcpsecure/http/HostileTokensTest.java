package dev.mcpsecure.http;

import static dev.mcpsecure.http.Tokens.claims;
import static dev.mcpsecure.http.Tokens.rs256;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.SignedJWT;
import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.ReasonCode;
import java.net.URI;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile bearer tokens against a running {@link SecureHttpServer}: each row is a token an
 * attacker or a misconfigured client could send, with why it must fail; each is answered 401
 * with the right {@code WWW-Authenticate} and audited with its reason code. Valid tokens (RS256,
 * ES256, EdDSA, an audience array containing us, within the clock skew) get a session.
 */
class HostileTokensTest {

    static HttpFixture fixture;
    static URI endpoint;

    @BeforeAll
    static void start() {
        fixture = new HttpFixture(9, 1 << 20);
        endpoint = fixture.http.endpoint();
    }

    @AfterAll
    static void stop() {
        fixture.close();
    }

    @BeforeEach
    void clearAudit() {
        fixture.audit.clear();
    }

    static Stream<Arguments> hostile() {
        Instant now = Instant.now();
        String claimsJson = claims().build().toString();
        return Stream.of(
                row("no Authorization header", null, ReasonCode.TOKEN_MISSING, "no bearer token"),
                row("an empty bearer token", "", ReasonCode.TOKEN_MISSING, "no bearer token"),
                row(
                        "alg none",
                        Tokens.raw("{\"alg\":\"none\"}", claimsJson, ""),
                        ReasonCode.TOKEN_INVALID,
                        "not a signed JWT"),
                row(
                        "alg NoNe (case games)",
                        Tokens.raw("{\"alg\":\"NoNe\",\"kid\":\"rsa-1\"}", claimsJson, "sig"),
                        ReasonCode.TOKEN_INVALID,
                        "not among the allowed"),
                row(
                        "HS256 keyed with the RSA public key (algorithm confusion)",
                        hs256WithPublicKey(),
                        ReasonCode.TOKEN_INVALID,
                        "not among the allowed"),
                row(
                        "an unknown kid",
                        rs256(h -> h.keyID("rsa-404"), c -> c),
                        ReasonCode.TOKEN_INVALID,
                        "kid is not a key"),
                row(
                        "kid path injection",
                        rs256(h -> h.keyID("../../../../dev/null"), c -> c),
                        ReasonCode.TOKEN_INVALID,
                        "kid is not a key"),
                row(
                        "no kid",
                        rs256(h -> new JWSHeader.Builder(JWSAlgorithm.RS256), c -> c),
                        ReasonCode.TOKEN_INVALID,
                        "no kid"),
                row(
                        "a jku header pointing at the attacker's keys",
                        rs256(h -> h.jwkURL(URI.create("https://evil.test/jwks")), c -> c),
                        ReasonCode.TOKEN_INVALID,
                        "jku, x5u, jwk or x5c"),
                row(
                        "an x5u header",
                        rs256(h -> h.x509CertURL(URI.create("https://evil.test/cert")), c -> c),
                        ReasonCode.TOKEN_INVALID,
                        "jku, x5u, jwk or x5c"),
                row(
                        "an embedded jwk signed by the attacker",
                        Tokens.sign(
                                Tokens.ATTACKER_RSA,
                                JWSAlgorithm.RS256,
                                h -> h.jwk(Tokens.ATTACKER_RSA.toPublicJWK()),
                                c -> c),
                        ReasonCode.TOKEN_INVALID,
                        "jku, x5u, jwk or x5c"),
                row(
                        "a crit header",
                        rs256(
                                h -> h.criticalParams(Set.of("http://evil.test/ext"))
                                        .customParam("http://evil.test/ext", true),
                                c -> c),
                        ReasonCode.TOKEN_INVALID,
                        "critical header"),
                row(
                        "typ of another kind of token",
                        rs256(h -> h.type(new com.nimbusds.jose.JOSEObjectType("secevent+jwt")), c -> c),
                        ReasonCode.TOKEN_INVALID,
                        "typ"),
                row(
                        "signed by another key under our kid",
                        Tokens.sign(Tokens.ATTACKER_RSA, JWSAlgorithm.RS256, h -> h, c -> c),
                        ReasonCode.TOKEN_INVALID,
                        "does not verify"),
                row(
                        "an RS256 signature naming the EC key",
                        rs256(h -> h.keyID("ec-1"), c -> c),
                        ReasonCode.TOKEN_INVALID,
                        "does not fit"),
                row("a wrong issuer", rs256(c -> c.issuer("https://evil.test")), ReasonCode.TOKEN_INVALID, "issuer"),
                row(
                        "an issuer carrying CR LF and a header (header injection)",
                        rs256(c -> c.issuer("https://evil.test\r\nX-Injected: 1")),
                        ReasonCode.TOKEN_INVALID,
                        "issuer"),
                row(
                        "the issuer with a trailing slash",
                        rs256(c -> c.issuer(Tokens.ISSUER + "/")),
                        ReasonCode.TOKEN_INVALID,
                        "issuer"),
                row(
                        "a token for another resource",
                        rs256(c -> c.audience("https://other.test/mcp")),
                        ReasonCode.TOKEN_INVALID,
                        "does not include this server"),
                row(
                        "an audience array without us",
                        rs256(c -> c.audience(List.of("https://a.test", "https://b.test"))),
                        ReasonCode.TOKEN_INVALID,
                        "does not include this server"),
                row(
                        "no audience",
                        rs256(c -> c.audience((String) null)),
                        ReasonCode.TOKEN_INVALID,
                        "does not include this server"),
                row(
                        "expired beyond the skew",
                        rs256(c -> c.issueTime(at(now, -600)).expirationTime(at(now, -31))),
                        ReasonCode.TOKEN_INVALID,
                        "expired"),
                row(
                        "nbf in the future",
                        rs256(c -> c.notBeforeTime(at(now, 120))),
                        ReasonCode.TOKEN_INVALID,
                        "not valid before"),
                row(
                        "iat in the future",
                        rs256(c -> c.issueTime(at(now, 120)).expirationTime(at(now, 400))),
                        ReasonCode.TOKEN_INVALID,
                        "issued in the future"),
                row("no exp", rs256(c -> c.expirationTime(null)), ReasonCode.TOKEN_INVALID, "no exp"),
                row(
                        "a lifetime above the maximum",
                        rs256(c -> c.expirationTime(at(now, 7_200))),
                        ReasonCode.TOKEN_INVALID,
                        "more than the 3600 s"),
                row("no subject", rs256(c -> c.subject(null)), ReasonCode.TOKEN_INVALID, "no sub"),
                row("a bad signature", tamper(rs256(c -> c)), ReasonCode.TOKEN_INVALID, "does not verify"),
                row("a truncated token", truncate(rs256(c -> c)), ReasonCode.TOKEN_INVALID, "not a signed JWT"),
                row(
                        "an oversized token",
                        rs256(c -> c.claim("pad", "x".repeat(20_000))),
                        ReasonCode.TOKEN_INVALID,
                        "longer than 16384 bytes"),
                row("garbage", "a.b.c", ReasonCode.TOKEN_INVALID, "not a signed JWT"),
                row(
                        "an EdDSA token with a bad signature",
                        tamper(Tokens.ed25519("{\"alg\":\"EdDSA\",\"kid\":\"ed-1\"}", c -> c)),
                        ReasonCode.TOKEN_INVALID,
                        "does not verify"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostile")
    void isRefusedWith401AndAudited(String why, String token, ReasonCode reason, String detail) {
        McpHttp.Answer answer = McpHttp.post(endpoint, token, null, Map.of(), McpHttp.initialize(1));

        assertThat(answer.status()).as(why).isEqualTo(401);
        String challenge = answer.header("www-authenticate");
        assertThat(challenge)
                .startsWith("Bearer ")
                .contains("resource_metadata=\"https://mcp.test/.well-known/oauth-protected-resource/mcp\"")
                .as("names the scopes the resource's tools need")
                .endsWith(", scope=\"admin\"");
        assertThat(challenge).matches("[\\x20-\\x7e]+").hasSizeLessThan(600);
        assertThat(answer.header("x-injected")).isNull();
        if (reason == ReasonCode.TOKEN_INVALID) {
            assertThat(challenge).contains("error=\"invalid_token\"");
        } else {
            assertThat(challenge).doesNotContain("error=");
        }
        assertThat(answer.json()
                        .path("error")
                        .path("data")
                        .path("dev.mcpsecure/reason")
                        .asString())
                .isEqualTo(reason.name());
        assertThat(fixture.audit.events()).singleElement().satisfies(event -> {
            assertThat(event.reason()).isEqualTo(reason);
            assertThat(event.detail()).contains("HTTP 401").contains(detail);
            if (token != null && token.length() > 10) {
                assertThat(event.detail()).doesNotContain(token);
            }
        });
    }

    static Stream<Arguments> valid() {
        Instant now = Instant.now();
        return Stream.of(
                Arguments.of("RS256", rs256(c -> c)),
                Arguments.of("ES256", Tokens.sign(Tokens.EC, JWSAlgorithm.ES256, h -> h, c -> c)),
                Arguments.of(
                        "EdDSA (Ed25519)",
                        Tokens.ed25519("{\"alg\":\"EdDSA\",\"kid\":\"ed-1\",\"typ\":\"JWT\"}", c -> c)),
                Arguments.of(
                        "an audience array containing us",
                        rs256(c -> c.audience(List.of("https://other.test", Tokens.RESOURCE)))),
                Arguments.of("typ at+jwt", rs256(h -> h.type(new com.nimbusds.jose.JOSEObjectType("at+jwt")), c -> c)),
                Arguments.of("expired 10 s ago, within the 30 s skew", rs256(c -> c.issueTime(at(now, -300))
                        .expirationTime(at(now, -10)))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valid")
    void isAccepted(String why, String token) {
        String session = McpHttp.session(endpoint, token);

        assertThat(session).as(why).isNotBlank();
        McpHttp.Answer call = McpHttp.post(
                endpoint, token, session, Map.of("MCP-Protocol-Version", "2025-11-25"), McpHttp.call(2, "echo"));
        assertThat(call.status()).isEqualTo(200);
        assertThat(call.firstText()).isEqualTo("echo");
        assertThat(fixture.audit.events())
                .filteredOn(event -> "echo".equals(event.tool()))
                .extracting(AuditEvent::subject, AuditEvent::clientId, AuditEvent::reason)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("user-42", "client-7", ReasonCode.ALLOWED));
    }

    static Arguments row(String why, String token, ReasonCode reason, String detail) {
        return Arguments.of(why, token, reason, detail);
    }

    static Date at(Instant now, long seconds) {
        return Date.from(now.plusSeconds(seconds));
    }

    static String hs256WithPublicKey() {
        try {
            SignedJWT jwt = new SignedJWT(
                    new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("rsa-1").build(), claims().build());
            jwt.sign(new MACSigner(Tokens.RSA.toRSAPublicKey().getEncoded()));
            return jwt.serialize();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String tamper(String jwt) {
        int dot = jwt.lastIndexOf('.');
        char last = jwt.charAt(dot + 5);
        return jwt.substring(0, dot + 5) + (last == 'A' ? 'B' : 'A') + jwt.substring(dot + 6);
    }

    static String truncate(String jwt) {
        return jwt.substring(0, jwt.lastIndexOf('.'));
    }
}
