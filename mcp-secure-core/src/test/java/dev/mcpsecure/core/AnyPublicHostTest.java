package dev.mcpsecure.core;

import static dev.mcpsecure.api.ReasonCode.ALLOWED;
import static dev.mcpsecure.api.ReasonCode.EGRESS_ADDRESS_BLOCKED;
import static dev.mcpsecure.api.ReasonCode.EGRESS_HOST_NOT_ALLOWED;
import static dev.mcpsecure.api.ReasonCode.EGRESS_SCHEME_NOT_ALLOWED;
import static dev.mcpsecure.api.ReasonCode.TOKEN_AUDIENCE_MISMATCH;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.mcpsecure.api.EgressRule;
import dev.mcpsecure.api.InvalidPolicyException;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.core.internal.egress.PolicyEgressGuard;
import dev.mcpsecure.testkit.LoopbackHttpServer;
import dev.mcpsecure.testkit.LoopbackHttpServer.Reply;
import dev.mcpsecure.testkit.RecordingAuditSink;
import java.net.InetAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * An egress rule for any public host ({@code host: "*"}): every host matches on name, the rule's
 * scheme, port, paths and methods still apply, special addresses are refused with no exception,
 * and no token is ever sent under it. Requests go through the real client to a real loopback
 * listener, which the rule must never reach (loopback is special); names resolve through a table.
 */
class AnyPublicHostTest {

    static final RecordingAuditSink audit = new RecordingAuditSink();
    static final Map<String, String> ANSWERS = Map.of(
            "public.example", "127.0.0.1", // a public name that resolves to loopback (DNS rebinding)
            "intranet.example", "10.1.2.3",
            "metadata.example", "169.254.169.254");
    static LoopbackHttpServer target;
    static SecurityPolicy policy;

    @BeforeAll
    static void start() {
        target = LoopbackHttpServer.start();
        target.route("/", request -> Reply.text("reached"));
        target.route("/public/page", request -> Reply.text("reached"));
        policy = PolicyLoader.fromYaml("""
                egress:
                  rules:
                    - {scheme: http, host: "*", port: %d, paths: [/pages/], methods: [GET]}
                tokens:
                  audiences:
                    "https://api.example": {role: api}
                """.formatted(target.port()), "any-public-host.yaml");
    }

    @AfterAll
    static void stop() {
        target.close();
    }

    static Stream<Arguments> requests() {
        return Stream.of(
                Arguments.of(
                        "a name that resolves to loopback",
                        "GET",
                        "http://public.example:P/pages/a",
                        null,
                        EGRESS_ADDRESS_BLOCKED),
                Arguments.of(
                        "a name that resolves to a private address",
                        "GET",
                        "http://intranet.example:P/pages/a",
                        null,
                        EGRESS_ADDRESS_BLOCKED),
                Arguments.of(
                        "a name that resolves to the metadata address",
                        "GET",
                        "http://metadata.example:P/pages/a",
                        null,
                        EGRESS_ADDRESS_BLOCKED),
                Arguments.of(
                        "the metadata address as a literal",
                        "GET",
                        "http://169.254.169.254:P/pages/a",
                        null,
                        EGRESS_ADDRESS_BLOCKED),
                Arguments.of(
                        "loopback as a literal", "GET", "http://127.0.0.1:P/pages/a", null, EGRESS_ADDRESS_BLOCKED),
                Arguments.of(
                        "another scheme", "GET", "https://public.example:P/pages/a", null, EGRESS_SCHEME_NOT_ALLOWED),
                Arguments.of("another port", "GET", "http://public.example:Q/pages/a", null, EGRESS_HOST_NOT_ALLOWED),
                Arguments.of("another path", "GET", "http://public.example:P/admin", null, EGRESS_HOST_NOT_ALLOWED),
                Arguments.of(
                        "another method", "POST", "http://public.example:P/pages/a", null, EGRESS_HOST_NOT_ALLOWED),
                Arguments.of(
                        "a token",
                        "GET",
                        "http://public.example:P/pages/a",
                        "https://api.example",
                        TOKEN_AUDIENCE_MISMATCH));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("requests")
    void refusesWhatTheRuleDoesNotCover(String why, String method, String url, String audience, ReasonCode expected)
            throws Exception {
        String concrete = url.replace(":P/", ":" + target.port() + "/")
                .replace(":Q/", ":" + (target.port() == 65535 ? 65534 : target.port() + 1) + "/");
        int accepted = target.accepted();
        audit.clear();
        try (EgressHttpClient client = EgressHttpClient.builder(policy)
                .resolver(host -> List.of(InetAddress.getByName(ANSWERS.getOrDefault(host, "127.0.0.1"))))
                .tokenSource(EgressHttpClientTest.tokens())
                .auditSink(audit)
                .build()) {
            EgressHttpClient sender = audience == null ? client : client.withTokenFor(audience);
            EgressRequest.Builder request = EgressRequest.builder(method, concrete);
            if (method.equals("POST")) {
                request.body(new byte[0], "application/json");
            }
            PolicyViolationException denial =
                    catchThrowableOfType(PolicyViolationException.class, () -> sender.send(request.build()));
            assertThat(denial).as("a denial").isNotNull();
            assertThat(denial.reason()).as(denial.decision().detail()).isEqualTo(expected);
        }
        assertThat(target.accepted()).as("TCP connections accepted").isEqualTo(accepted);
        assertThat(audit.reasons()).containsExactly(expected);
    }

    @Test
    void aPublicHostMatchesOnNameAndAddress() throws Exception {
        PolicyEgressGuard guard = new PolicyEgressGuard(policy.egress());
        URI page = URI.create("http://news.example:" + target.port() + "/pages/today");
        InetAddress documentation = InetAddress.getByName("93.184.216.34");

        assertThat(guard.checkRequest(page, "GET", Optional.empty()).reason()).isEqualTo(ALLOWED);
        assertThat(guard.checkAddress(page, documentation).reason()).isEqualTo(ALLOWED);
        assertThat(guard.checkConnect(documentation).reason()).isEqualTo(ALLOWED);
        assertThat(guard.checkConnect(InetAddress.getByName("169.254.169.254")).reason())
                .isEqualTo(EGRESS_ADDRESS_BLOCKED);
    }

    @Test
    void aHostARuleNamesIsDecidedByThatRuleAlone() throws Exception {
        SecurityPolicy named = PolicyLoader.fromYaml("""
                egress:
                  rules:
                    - {scheme: http, host: intranet.example, port: %1$d, paths: [/public/], methods: [GET],
                       allowAddresses: [127.0.0.1/32]}
                    - {scheme: http, host: "*", port: %1$d, methods: [GET, POST]}
                """.formatted(target.port()), "named-and-any.yaml");
        int accepted = target.accepted();
        try (EgressHttpClient client = EgressHttpClient.builder(named)
                .resolver(host -> List.of(InetAddress.getByName("127.0.0.1")))
                .auditSink(audit)
                .build()) {
            PolicyViolationException post = catchThrowableOfType(
                    PolicyViolationException.class,
                    () -> client.send(
                            EgressRequest.builder("POST", "http://intranet.example:" + target.port() + "/admin/delete")
                                    .body(new byte[0], "application/json")
                                    .build()));
            assertThat(post)
                    .as("the '*' rule does not widen the named rule's methods and paths")
                    .isNotNull();
            assertThat(post.reason()).isEqualTo(EGRESS_HOST_NOT_ALLOWED);
            assertThat(target.accepted()).isEqualTo(accepted);

            assertThat(client.get("http://intranet.example:" + target.port() + "/public/page")
                            .bodyText())
                    .as("what the named rule allows, on the loopback block it allows")
                    .isEqualTo("reached");
        }
        PolicyEgressGuard guard = new PolicyEgressGuard(named.egress());
        assertThat(guard.checkAddress("public.example", InetAddress.getByName("127.0.0.1"))
                        .reason())
                .as("another host never borrows the named rule's allowAddresses")
                .isEqualTo(EGRESS_ADDRESS_BLOCKED);
    }

    @Test
    void aRuleForAnyPublicHostCarriesNoTokenAndNoSpecialAddresses() {
        assertThatThrownBy(() -> EgressRule.builder(EgressRule.ANY_PUBLIC_HOST)
                        .audience("https://api.example")
                        .build())
                .isInstanceOf(InvalidPolicyException.class)
                .hasMessageContaining("may not carry a token");
        assertThatThrownBy(() -> EgressRule.builder(EgressRule.ANY_PUBLIC_HOST)
                        .allowAddresses("10.0.0.0/8")
                        .build())
                .isInstanceOf(InvalidPolicyException.class)
                .hasMessageContaining("never reaches special addresses");
    }
}
