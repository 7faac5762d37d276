package dev.mcpsecure.core;

import static dev.mcpsecure.api.ReasonCode.ALLOWED;
import static dev.mcpsecure.api.ReasonCode.EGRESS_ADDRESS_BLOCKED;
import static dev.mcpsecure.api.ReasonCode.EGRESS_HOST_NOT_ALLOWED;
import static dev.mcpsecure.api.ReasonCode.EGRESS_REDIRECT_BLOCKED;
import static dev.mcpsecure.api.ReasonCode.EGRESS_SCHEME_NOT_ALLOWED;
import static dev.mcpsecure.api.ReasonCode.RESPONSE_TOO_LARGE;
import static dev.mcpsecure.api.ReasonCode.TOKEN_AUDIENCE_MISMATCH;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.mcpsecure.api.AccessToken;
import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.Cidr;
import dev.mcpsecure.api.PolicyViolationException;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.TokenSource;
import dev.mcpsecure.testkit.LoopbackHttpServer;
import dev.mcpsecure.testkit.LoopbackHttpServer.Reply;
import dev.mcpsecure.testkit.RecordingAuditSink;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The egress table: each row is a request, why it is there, and what must happen. Every name
 * resolves through a fake resolver (fault injection a real DNS server can't give on demand) that
 * answers 127.0.0.1 — the loopback listener standing in for the target — for any name it has no
 * special answer for, so a request that leaked past the policy would show up there. Every denial
 * asserts that the listener saw no new connection (or, for redirect and size rows, no request
 * beyond the one that was allowed).
 */
class EgressHttpClientTest {

    static final String API = "https://api.example";
    static final String OTHER = "https://other.example";

    static LoopbackHttpServer target;
    static SecurityPolicy policy;
    static final RecordingAuditSink audit = new RecordingAuditSink();

    /** Special answers of the fake resolver; anything else resolves to 127.0.0.1. */
    static final Map<String, List<String>> ANSWERS = Map.ofEntries(
            Map.entry("loopback.special.example", List.of("127.0.0.1")),
            Map.entry("loopback2.special.example", List.of("127.0.0.2")),
            Map.entry("metadata.special.example", List.of("169.254.169.254")),
            Map.entry("aws-v6-metadata.special.example", List.of("fd00:ec2::254")),
            Map.entry("private10.special.example", List.of("10.0.0.1")),
            Map.entry("private172.special.example", List.of("172.16.5.4")),
            Map.entry("private192.special.example", List.of("192.168.1.1")),
            Map.entry("cgnat.special.example", List.of("100.64.0.1")),
            Map.entry("unspecified.special.example", List.of("0.0.0.0")),
            Map.entry("broadcast.special.example", List.of("255.255.255.255")),
            Map.entry("multicast.special.example", List.of("224.0.0.1")),
            Map.entry("v6loopback.special.example", List.of("::1")),
            Map.entry("v6mapped.special.example", List.of("::ffff:127.0.0.1")),
            Map.entry("v6compat.special.example", List.of("::127.0.0.1")),
            Map.entry("nat64.special.example", List.of("64:ff9b::a9fe:a9fe")),
            Map.entry("sixtofour.special.example", List.of("2002:7f00:1::1")),
            Map.entry("teredo.special.example", List.of("2001:0:4136:e378:8000:63bf:3fff:fdd2")),
            Map.entry("ula.special.example", List.of("fc00::1")),
            Map.entry("linklocal6.special.example", List.of("fe80::1")),
            Map.entry("multicast6.special.example", List.of("ff02::1")),
            Map.entry("mixed.special.example", List.of("127.0.0.1", "10.0.0.1", "169.254.169.254")));

    @BeforeAll
    static void start() {
        target = LoopbackHttpServer.start();
        target.route("/v1/items", request -> Reply.json("{\"items\":[1,2,3]}"))
                .route("/literal/x", request -> Reply.text("literal"))
                .route("/x", request -> Reply.text("svc"))
                .route("/", request -> Reply.text("root"))
                .route("/v1/to-items", request -> Reply.redirect(302, "/v1/items"))
                .route("/v1/to-evil", request -> Reply.redirect(302, "http://evil.example:" + target.port() + "/"))
                .route("/v1/to-metadata", request -> Reply.redirect(301, "http://169.254.169.254/latest/meta-data/"))
                .route(
                        "/v1/to-loopback-name",
                        request -> Reply.redirect(307, "http://loopback.special.example:" + target.port() + "/"))
                .route("/v1/to-file", request -> Reply.redirect(302, "file:///etc/passwd"))
                .route("/v1/to-svc", request -> Reply.redirect(302, "http://a.svc.example:" + target.port() + "/x"))
                .route("/v1/to-backslash", request -> Reply.redirect(302, "http://evil.example\\@api.example/"))
                .route("/v1/loop", request -> Reply.redirect(302, "/v1/loop"))
                .route("/v1/big", request -> new Reply(200, Map.of(), new byte[2 * 1024 * 1024], false))
                .route("/v1/big-chunked", request -> new Reply(200, Map.of(), new byte[2 * 1024 * 1024], true));
        policy = PolicyLoader.fromYaml("""
                egress:
                  rules:
                    - {scheme: http, host: api.example, port: %1$d, paths: [/v1/], methods: [GET, POST],
                       audience: "https://api.example", allowAddresses: [127.0.0.1/32]}
                    - {scheme: http, host: "*.svc.example", port: %1$d, allowAddresses: [127.0.0.1/32]}
                    - {scheme: http, host: 127.0.0.1, port: %1$d, paths: [/literal/], allowAddresses: [127.0.0.1/32]}
                    - {scheme: http, host: "*.special.example", port: %1$d}
                    - {host: secure.example}
                    - {scheme: http, host: bücher.example, port: %1$d, allowAddresses: [127.0.0.1/32]}
                tokens:
                  audiences:
                    "https://api.example": {role: api}
                    "https://other.example": {role: other}
                """.formatted(target.port()), "egress-table.yaml");
    }

    @AfterAll
    static void stop() {
        target.close();
    }

    record Row(String why, String method, String url, String audience, ReasonCode expected, int requests) {
        Row method(String verb) {
            return new Row(why, verb, url, audience, expected, requests);
        }

        Row token(String forAudience) {
            return new Row(why, method, url, forAudience, expected, requests);
        }

        /** How many requests the listener must see: 1 for allowed rows, else 0 unless set. */
        Row reaches(int count) {
            return new Row(why, method, url, audience, expected, count);
        }

        @Override
        public String toString() {
            return why;
        }
    }

    static Row row(String why, String url, ReasonCode expected) {
        return new Row(why, "GET", url, null, expected, expected == ALLOWED ? 1 : 0);
    }

    static Stream<Row> rows() {
        List<Row> rows = new ArrayList<>();
        // legitimate requests that must work
        rows.add(row("allowed host, port, path and method", "http://api.example:P/v1/items", ALLOWED));
        rows.add(row("upper-case host is the same host", "http://API.EXAMPLE:P/v1/items", ALLOWED));
        rows.add(row("trailing dot is the same host", "http://api.example.:P/v1/items", ALLOWED));
        rows.add(row("a second allowed method", "http://api.example:P/v1/items", ALLOWED)
                .method("POST"));
        rows.add(row("wildcard matches one label", "http://a.svc.example:P/x", ALLOWED));
        rows.add(row("an IP literal its rule names, with allowAddresses", "http://127.0.0.1:P/literal/x", ALLOWED));
        rows.add(row("token for the rule's audience", "http://api.example:P/v1/items", ALLOWED)
                .token(API));
        rows.add(row("query and fragment are fine", "http://api.example:P/v1/items?q=1#top", ALLOWED));
        rows.add(row("IDN host converts to the rule's punycode", "http://bücher.example:P/", ALLOWED));
        rows.add(row("punycode spelling of the same IDN host", "http://xn--bcher-kva.example:P/", ALLOWED));
        rows.add(row("port with a leading zero is the same port", "http://api.example:0P/v1/items", ALLOWED));
        rows.add(row("redirect to an allowed path is followed", "http://api.example:P/v1/to-items", ALLOWED)
                .reaches(2));
        // schemes
        rows.add(row("ftp is not http(s)", "ftp://api.example:P/v1/items", EGRESS_SCHEME_NOT_ALLOWED));
        rows.add(row("file URLs never leave", "file:///etc/passwd", EGRESS_SCHEME_NOT_ALLOWED));
        rows.add(row("gopher smuggling", "gopher://api.example:P/_GET%20/", EGRESS_SCHEME_NOT_ALLOWED));
        rows.add(row("jar: wrapping an http URL", "jar:http://api.example:P/v1/x.jar!/", EGRESS_SCHEME_NOT_ALLOWED));
        rows.add(row("relative URL", "//api.example:P/v1/items", EGRESS_SCHEME_NOT_ALLOWED));
        rows.add(row("https where the rule says http", "https://api.example:P/v1/items", EGRESS_SCHEME_NOT_ALLOWED));
        rows.add(row("http where the rule says https", "http://secure.example/", EGRESS_SCHEME_NOT_ALLOWED));
        // hosts
        rows.add(row("unlisted host", "http://evil.example:P/", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("localhost is not listed", "http://localhost:P/", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("userinfo before an evil host", "http://api.example@evil.example:P/v1/", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row(
                "userinfo before the allowed host", "http://evil.example@api.example:P/v1/", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row(
                "fragment hiding the allowed host", "http://evil.example:P#@api.example/v1/", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row(
                "backslash read as '/' by other parsers",
                "http://evil.example:P\\@api.example/v1/",
                EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("backslash in the path", "http://api.example:P/v1\\..\\admin", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row(
                "allowed name as a subdomain of evil",
                "http://api.example.evil.example:P/v1/",
                EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("allowed name as a suffix", "http://evilapi.example:P/v1/", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("IDN look-alike (Cyrillic a)", "http://\u0430pi.example:P/v1/items", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("punycode of the look-alike", "http://xn--pi-7kc.example:P/v1/items", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("wildcard does not match two labels", "http://a.b.svc.example:P/x", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("wildcard does not match the bare domain", "http://svc.example:P/x", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("percent-encoded host", "http://%61pi.example:P/v1/items", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("underscore host", "http://api_example:P/v1/items", EGRESS_HOST_NOT_ALLOWED));
        // ports, paths, methods
        rows.add(row("another port on the allowed host", "http://api.example:Q/v1/items", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row(
                "scheme default port instead of the rule's", "http://api.example/v1/items", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("port out of range", "http://api.example:99999/v1/items", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("path outside the prefixes", "http://api.example:P/v2/items", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("dot-dot out of the prefix", "http://api.example:P/v1/../admin", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row(
                "encoded dot-dot out of the prefix", "http://api.example:P/v1/%2e%2e/admin", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("encoded slash in the path", "http://api.example:P/v1/..%2fadmin", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("method the rule does not list", "http://api.example:P/v1/items", EGRESS_HOST_NOT_ALLOWED)
                .method("DELETE"));
        // tokens
        rows.add(row("token for another audience", "http://api.example:P/v1/items", TOKEN_AUDIENCE_MISMATCH)
                .token(OTHER));
        rows.add(row("token to a host whose rule has no audience", "http://a.svc.example:P/x", TOKEN_AUDIENCE_MISMATCH)
                .token(API));
        // IP literals
        rows.add(row("literal the rules don't name", "http://127.0.0.2:P/literal/x", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("named literal outside its path", "http://127.0.0.1:P/admin", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("decimal IPv4", "http://2130706433:P/literal/x", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("hex IPv4", "http://0x7f000001:P/literal/x", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("dotted hex IPv4", "http://0x7f.0.0.1:P/literal/x", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("octal IPv4", "http://0177.0.0.1:P/literal/x", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("short IPv4", "http://127.1:P/literal/x", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("IPv6 loopback", "http://[::1]:P/literal/x", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("IPv4-mapped IPv6 loopback", "http://[::ffff:127.0.0.1]:P/literal/x", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("IPv4-mapped loopback in hex", "http://[::ffff:7f00:1]:P/literal/x", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("cloud metadata literal", "http://169.254.169.254/latest/meta-data/", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("NAT64 metadata literal", "http://[64:ff9b::a9fe:a9fe]/latest/", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("unspecified address", "http://0.0.0.0:P/literal/x", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("IPv6 zone id", "http://[fe80::1%25lo]:P/", EGRESS_HOST_NOT_ALLOWED));
        rows.add(row("percent-encoded literal", "http://%31%32%37.0.0.1:P/literal/x", EGRESS_HOST_NOT_ALLOWED));
        // allowed names resolving to special addresses
        for (Map.Entry<String, List<String>> answer : ANSWERS.entrySet()) {
            rows.add(row(
                    answer.getKey().substring(0, answer.getKey().indexOf('.')) + " name resolving to "
                            + answer.getValue(),
                    "http://" + answer.getKey() + ":P/",
                    EGRESS_ADDRESS_BLOCKED));
        }
        // redirects, from a real redirecting listener: the first hop is allowed, the second never sent
        rows.add(row("redirect to an unlisted host", "http://api.example:P/v1/to-evil", EGRESS_REDIRECT_BLOCKED)
                .reaches(1));
        rows.add(row("redirect to the metadata address", "http://api.example:P/v1/to-metadata", EGRESS_REDIRECT_BLOCKED)
                .reaches(1));
        rows.add(row(
                        "redirect to an allowed name resolving to loopback",
                        "http://api.example:P/v1/to-loopback-name",
                        EGRESS_REDIRECT_BLOCKED)
                .reaches(1));
        rows.add(row("redirect to a file URL", "http://api.example:P/v1/to-file", EGRESS_REDIRECT_BLOCKED)
                .reaches(1));
        rows.add(row("redirect with a backslash", "http://api.example:P/v1/to-backslash", EGRESS_REDIRECT_BLOCKED)
                .reaches(1));
        rows.add(row(
                        "redirect carrying the token to a host without its audience",
                        "http://api.example:P/v1/to-svc",
                        EGRESS_REDIRECT_BLOCKED)
                .token(API)
                .reaches(1));
        rows.add(row("redirect loop past the hop limit", "http://api.example:P/v1/loop", EGRESS_REDIRECT_BLOCKED)
                .reaches(6));
        // response size
        rows.add(row("declared body over the cap", "http://api.example:P/v1/big", RESPONSE_TOO_LARGE)
                .reaches(1));
        rows.add(row("chunked body over the cap", "http://api.example:P/v1/big-chunked", RESPONSE_TOO_LARGE)
                .reaches(1));
        return rows.stream();
    }

    @Test
    void theTableHasAtLeastFiftyRows() {
        assertThat(rows().count()).isGreaterThanOrEqualTo(50);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void decides(Row row) throws Exception {
        String url = row.url()
                .replace(":0P", ":0" + target.port())
                .replace(":P", ":" + target.port())
                .replace(":Q", ":" + (target.port() == 65535 ? 65534 : target.port() + 1));
        int acceptedBefore = target.accepted();
        int receivedBefore = target.received().size();
        audit.clear();
        try (EgressHttpClient client = client()) {
            EgressHttpClient sender = row.audience() == null ? client : client.withTokenFor(row.audience());
            EgressRequest.Builder request = EgressRequest.builder(row.method(), url);
            if (row.method().equals("POST")) {
                request.body("{}".getBytes(StandardCharsets.UTF_8), "application/json");
            }
            if (row.expected() == ALLOWED) {
                EgressResponse response = sender.send(request.build());
                assertThat(response.status()).isEqualTo(200);
            } else {
                PolicyViolationException denial =
                        catchThrowableOfType(PolicyViolationException.class, () -> sender.send(request.build()));
                assertThat(denial).as("a denial").isNotNull();
                assertThat(denial.reason()).as(denial.decision().detail()).isEqualTo(row.expected());
            }
        }
        List<LoopbackHttpServer.Received> received = target.received();
        assertThat(received.size() - receivedBefore)
                .as("requests that reached the listener")
                .isEqualTo(row.requests());
        if (row.requests() == 0) {
            assertThat(target.accepted()).as("TCP connections accepted").isEqualTo(acceptedBefore);
        }
        List<AuditEvent> events = audit.events();
        assertThat(events).as("one audit event per request").hasSize(1);
        assertThat(events.get(0).reason()).isEqualTo(row.expected());
        for (LoopbackHttpServer.Received request : received.subList(receivedBefore, received.size())) {
            String authorization = request.headers().get("authorization");
            if (row.audience() != null && request.path().startsWith("/v1/")) {
                assertThat(authorization).isEqualTo("Bearer token-for-" + row.audience());
            } else {
                assertThat(authorization)
                        .as("no token sent to " + request.path())
                        .isNull();
            }
        }
    }

    static EgressHttpClient client() {
        return EgressHttpClient.builder(policy)
                .resolver(EgressHttpClientTest::resolve)
                .tokenSource(EgressHttpClientTest.tokens())
                .auditSink(audit)
                .build();
    }

    /** A stand-in token source: the real ones (Vault, the local issuer) have their own tests. */
    static TokenSource tokens() {
        return audience ->
                new AccessToken("token-for-" + audience, audience, Instant.now().plusSeconds(300));
    }

    /** The fake resolver: special answers by name, 127.0.0.1 for every other name. */
    static List<InetAddress> resolve(String host) throws UnknownHostException {
        List<String> texts = ANSWERS.getOrDefault(host, List.of("127.0.0.1"));
        List<InetAddress> addresses = new ArrayList<>();
        for (String text : texts) {
            addresses.add(address(text));
        }
        return addresses;
    }

    /** The address {@code text} spells; IPv4-mapped forms stay IPv6 (the JDK would fold them). */
    static InetAddress address(String text) {
        return Cidr.parseAddress(text).orElseThrow();
    }
}
