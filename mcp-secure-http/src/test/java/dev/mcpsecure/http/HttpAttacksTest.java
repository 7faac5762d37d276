package dev.mcpsecure.http;

import static dev.mcpsecure.http.Tokens.rs256;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.ToolPolicy;
import dev.mcpsecure.api.TransportPolicy;
import dev.mcpsecure.core.SecureMcpServer;
import dev.mcpsecure.testkit.RecordingAuditSink;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import tools.jackson.databind.JsonNode;

/**
 * Every attack measured against the HTTP transport (issue 21), one row each, over real HTTP with
 * tokens for four principals: {@link #ALICE} owns the session under attack, {@link #BOB} holds
 * the tools' scope, {@link #CAROL} holds none, {@link #ALICE_ELSEWHERE} is Alice through another
 * client application. Each row asserts the HTTP status, the JSON-RPC
 * body, the audit records (their reason codes, exactly), how often each tool body ran, and that
 * Alice's session still works afterwards.
 */
class HttpAttacksTest {

    static final String ALICE = principal("alice", "tools");
    static final String BOB = principal("bob", "tools");
    static final String CAROL = principal("carol", null);
    /** Alice's user through another client application: another principal. */
    static final String ALICE_ELSEWHERE = rs256(
            claims -> claims.subject("alice").claim("client_id", "other-app").claim("scope", "tools"));

    static final String ELICITATION = "{\"elicitation\":{}}";
    static final Map<String, String> V = Map.of("MCP-Protocol-Version", "2025-11-25");

    final RecordingAuditSink audit = new RecordingAuditSink();
    final AtomicInteger echoes = new AtomicInteger();
    final AtomicInteger wipes = new AtomicInteger();
    SecureHttpServer http;
    URI endpoint;
    String alices;

    static String principal(String subject, String scope) {
        return rs256(claims -> {
            claims.subject(subject).claim("client_id", "desk");
            return scope == null ? claims : claims.claim("scope", scope);
        });
    }

    @BeforeEach
    void start() {
        SecurityPolicy policy = SecurityPolicy.builder()
                .server("attacked", "")
                .tool(ToolPolicy.builder("echo")
                        .scopes("tools")
                        .rateLimit(3, Duration.ofMinutes(1))
                        .build())
                .tool(ToolPolicy.builder("wipe")
                        .scopes("tools")
                        .confirm(true)
                        .maxConcurrency(1)
                        .build())
                .tool(ToolPolicy.builder("whoami").scopes("tools").build())
                .transport(TransportPolicy.builder()
                        .maxSessions(8)
                        .maxSessionsPerPrincipal(3)
                        .auth(HttpFixture.AUTH)
                        .build())
                .build();
        SecureMcpServer.Builder server = SecureMcpServer.builder(policy)
                .auditSink(audit)
                .confirmationTimeout(Duration.ofSeconds(60))
                .tool(HttpFixture.tool("echo", request -> "echo " + echoes.incrementAndGet()))
                .tool(wipeTool())
                .tool(HttpFixture.tool("whoami", request -> "still here"));
        http = SecureHttpServer.builder(server, policy)
                .tokenVerifier(JwtTokenVerifier.builder(Tokens.ISSUER, Tokens.RESOURCE)
                        .keys(Tokens.JWKS)
                        .build())
                .streamHeartbeat(Duration.ofMillis(100)) // finds a closed connection within a few beats
                .start();
        endpoint = http.endpoint();
        alices = McpHttp.session(endpoint, ALICE, ELICITATION);
        audit.clear();
    }

    SyncToolSpecification wipeTool() {
        return SyncToolSpecification.builder()
                .tool(McpSchema.Tool.builder(
                                "wipe",
                                Map.of("type", "object", "properties", Map.of("path", Map.of("type", "string"))))
                        .build())
                .callHandler((exchange, request) -> {
                    wipes.incrementAndGet();
                    return McpSchema.CallToolResult.builder()
                            .addTextContent("wiped")
                            .isError(false)
                            .build();
                })
                .build();
    }

    @AfterEach
    void stop() {
        http.close();
    }

    /** What a row saw: the HTTP status and JSON-RPC message of the answer that matters. */
    record Seen(int status, JsonNode json) {
        static Seen of(McpHttp.Answer answer) {
            return new Seen(answer.status(), answer.response().body().isEmpty() ? null : answer.json());
        }

        static Seen of(SseCall call, JsonNode message) {
            return new Seen(call.status(), message);
        }
    }

    /** One attack: what it does, and what the server must answer. */
    enum Attack {
        CALL_A_TOOL_IN_ANOTHERS_SESSION(
                404,
                reason("SESSION_UNKNOWN"),
                List.of(ReasonCode.SESSION_NOT_OWNED),
                0,
                0,
                t -> Seen.of(McpHttp.post(t.endpoint, BOB, t.alices, V, McpHttp.call(7, "echo")))),
        CALL_A_TOOL_IN_ONES_SESSION_FROM_ANOTHER_CLIENT(
                404,
                reason("SESSION_UNKNOWN"),
                List.of(ReasonCode.SESSION_NOT_OWNED),
                0,
                0,
                t -> Seen.of(McpHttp.post(t.endpoint, ALICE_ELSEWHERE, t.alices, V, McpHttp.call(7, "echo")))),
        OPEN_ANOTHERS_STREAM(
                404,
                reason("SESSION_UNKNOWN"),
                List.of(ReasonCode.SESSION_NOT_OWNED),
                0,
                0,
                t -> Seen.of(McpHttp.bodiless("GET", t.endpoint, CAROL, t.alices))),
        DELETE_ANOTHERS_SESSION(
                404,
                reason("SESSION_UNKNOWN"),
                List.of(ReasonCode.SESSION_NOT_OWNED),
                0,
                0,
                t -> Seen.of(McpHttp.bodiless("DELETE", t.endpoint, BOB, t.alices))),
        DRAIN_ANOTHERS_RATE_LIMIT(
                404,
                reason("SESSION_UNKNOWN"),
                List.of(
                        ReasonCode.SESSION_NOT_OWNED,
                        ReasonCode.SESSION_NOT_OWNED,
                        ReasonCode.SESSION_NOT_OWNED,
                        ReasonCode.ALLOWED, // Alice's three calls
                        ReasonCode.ALLOWED,
                        ReasonCode.ALLOWED),
                3,
                0,
                t -> {
                    McpHttp.Answer last = null;
                    for (int i = 0; i < 3; i++) {
                        last = McpHttp.post(t.endpoint, BOB, t.alices, V, McpHttp.call(10 + i, "echo"));
                    }
                    for (int i = 0; i < 3; i++) {
                        assertThat(McpHttp.post(t.endpoint, ALICE, t.alices, V, McpHttp.call(20 + i, "echo"))
                                        .firstText())
                                .as("Alice keeps her whole allowance")
                                .startsWith("echo ");
                    }
                    return Seen.of(last);
                }),
        ANSWER_ANOTHERS_CONFIRMATION(
                404,
                reason("SESSION_UNKNOWN"),
                List.of(ReasonCode.SESSION_NOT_OWNED, ReasonCode.USER_DECLINED),
                0,
                0,
                t -> t.whileAliceIsAsked(
                        "{\"path\":\"/srv/data\"}",
                        question -> McpHttp.post(t.endpoint, CAROL, t.alices, V, accept(question.path("id"))))),
        ANSWER_ANOTHERS_CONFIRMATION_FROM_ONES_OWN_SESSION(
                400,
                reason("RESPONSE_UNEXPECTED"),
                List.of(ReasonCode.RESPONSE_UNEXPECTED, ReasonCode.USER_DECLINED),
                0,
                0,
                t -> {
                    String bobs = McpHttp.session(t.endpoint, BOB, ELICITATION);
                    return t.whileAliceIsAsked(
                            "{\"path\":\"/srv/data\"}",
                            question -> McpHttp.post(t.endpoint, BOB, bobs, V, accept(question.path("id"))));
                }),
        ANSWER_A_QUESTION_NEVER_ASKED(
                400,
                reason("RESPONSE_UNEXPECTED"),
                List.of(ReasonCode.RESPONSE_UNEXPECTED),
                0,
                0,
                t -> Seen.of(McpHttp.post(
                        t.endpoint,
                        ALICE,
                        t.alices,
                        V,
                        accept(McpHttp.JSON.getNodeFactory().stringNode(t.alices + "-0"))))),
        INITIALIZE_NAMING_A_LIVE_SESSION(
                400, reason("MALFORMED_MESSAGE"), List.of(ReasonCode.MALFORMED_MESSAGE), 0, 0, t -> {
                    Seen seen = Seen.of(McpHttp.post(t.endpoint, ALICE, t.alices, Map.of(), McpHttp.initialize(2)));
                    assertThat(t.http.liveSessions()).as("no session opened").isEqualTo(1);
                    return seen;
                }),
        TAKE_EVERY_SESSION(
                503,
                message("this caller holds its maximum of 3 live sessions"),
                List.of(ReasonCode.SESSION_LIMIT),
                0,
                0,
                t -> {
                    for (int i = 0; i < 3; i++) {
                        McpHttp.session(t.endpoint, BOB);
                    }
                    Seen seen = Seen.of(McpHttp.post(t.endpoint, BOB, null, Map.of(), McpHttp.initialize(3)));
                    assertThat(McpHttp.session(t.endpoint, CAROL))
                            .as("another principal still gets one")
                            .isNotBlank();
                    return seen;
                }),
        KEEP_HUGE_CLIENT_INFO_IN_A_SESSION(
                413, reason("REQUEST_TOO_LARGE"), List.of(ReasonCode.REQUEST_TOO_LARGE), 0, 0, t -> {
                    Seen seen = Seen.of(McpHttp.post(
                            t.endpoint,
                            BOB,
                            null,
                            Map.of(),
                            McpHttp.initialize(1, "{\"experimental\":{\"x\":\"" + "x".repeat(20_000) + "\"}}")));
                    assertThat(t.http.liveSessions()).isEqualTo(1);
                    return seen;
                }),
        RESET_THE_RATE_LIMIT_WITH_NEW_SESSIONS(
                200,
                text("RATE_LIMITED: "),
                List.of(ReasonCode.ALLOWED, ReasonCode.ALLOWED, ReasonCode.ALLOWED, ReasonCode.RATE_LIMITED),
                3,
                0,
                t -> {
                    McpHttp.Answer last = null;
                    for (int round = 0; round < 2; round++) {
                        String session = McpHttp.session(t.endpoint, BOB);
                        for (int i = 0; i < 2; i++) {
                            last = McpHttp.post(t.endpoint, BOB, session, V, McpHttp.call(30 + i, "echo"));
                        }
                        McpHttp.bodiless("DELETE", t.endpoint, BOB, session);
                    }
                    return Seen.of(last);
                }),
        LOCK_A_TOOL_WITH_UNANSWERED_CONFIRMATIONS(
                200,
                text("CONFIRMATION_UNAVAILABLE: too many confirmations are waiting"),
                List.of(
                        ReasonCode.CONFIRMATION_UNAVAILABLE, // the fifth question
                        ReasonCode.ALLOWED, // Alice's call, which took the tool's one slot
                        ReasonCode.CONFIRMATION_UNAVAILABLE, // Bob's four, ended with his connections
                        ReasonCode.CONFIRMATION_UNAVAILABLE,
                        ReasonCode.CONFIRMATION_UNAVAILABLE,
                        ReasonCode.CONFIRMATION_UNAVAILABLE),
                0,
                1,
                t -> {
                    String bobs = McpHttp.session(t.endpoint, BOB, ELICITATION);
                    List<SseCall> waiting = new ArrayList<>();
                    for (int i = 0; i < 4; i++) {
                        SseCall call = SseCall.post(t.endpoint, BOB, bobs, wipe(40 + i, "{\"path\":\"/srv\"}"));
                        assertThat(call.next().path("method").asString()).isEqualTo("elicitation/create");
                        waiting.add(call);
                    }
                    Seen seen;
                    try (SseCall fifth = SseCall.post(t.endpoint, BOB, bobs, wipe(45, "{\"path\":\"/srv\"}"))) {
                        seen = Seen.of(fifth, fifth.next());
                    }
                    // the tool's only slot is free: unanswered questions hold none
                    try (SseCall alices = SseCall.post(t.endpoint, ALICE, t.alices, wipe(46, "{\"path\":\"/a\"}"))) {
                        JsonNode question = alices.next();
                        assertThat(McpHttp.post(t.endpoint, ALICE, t.alices, V, accept(question.path("id")))
                                        .status())
                                .isEqualTo(202);
                        assertThat(alices.next()
                                        .path("result")
                                        .path("content")
                                        .get(0)
                                        .path("text")
                                        .asString())
                                .isEqualTo("wiped");
                    }
                    // a question ends with the connection it was asked on
                    waiting.forEach(SseCall::close);
                    t.awaitRecords(6);
                    assertThat(t.audit.events().subList(2, 6))
                            .allSatisfy(event -> assertThat(event.detail()).contains("the client's connection closed"));
                    return seen;
                }),
        HIDE_THE_REAL_ARGUMENTS_FROM_THE_QUESTION(
                200, text("USER_DECLINED: the user declined"), List.of(ReasonCode.USER_DECLINED), 0, 0, t -> {
                    String padded = " ".repeat(700);
                    String[] shown = new String[1];
                    Seen seen = t.whileAliceIsAsked(
                            "{\"" + padded + "\":\"a\",\"path\":\"/etc/\u202Epasswd\"}", question -> {
                                shown[0] =
                                        question.path("params").path("message").asString();
                                return null;
                            });
                    assertThat(shown[0])
                            .as("every argument, whole, with the bidi control escaped")
                            .contains(padded, "\"path\"", "/etc/")
                            .doesNotContain("\u202E")
                            .contains("\\u202e");
                    return seen;
                }),
        OVERFLOW_THE_QUESTION(
                200,
                text("ARGUMENTS_TOO_LARGE: the arguments of tool 'wipe' are too long to show the user whole"),
                List.of(ReasonCode.ARGUMENTS_TOO_LARGE),
                0,
                0,
                t -> {
                    try (SseCall call = SseCall.post(
                            t.endpoint, ALICE, t.alices, wipe(50, "{\"path\":\"" + "p".repeat(3_000) + "\"}"))) {
                        return Seen.of(call, call.next()); // the refusal; no question was asked
                    }
                }),
        SEND_A_MESSAGE_WITHOUT_METHOD(
                400,
                reason("MALFORMED_MESSAGE"),
                List.of(ReasonCode.MALFORMED_MESSAGE),
                0,
                0,
                t -> Seen.of(
                        McpHttp.post(t.endpoint, ALICE, t.alices, V, "{\"jsonrpc\":\"2.0\",\"id\":5,\"params\":{}}"))),
        SEND_AN_OBJECT_AS_ID(
                400,
                reason("MALFORMED_MESSAGE"),
                List.of(ReasonCode.MALFORMED_MESSAGE),
                0,
                0,
                t -> Seen.of(McpHttp.post(
                        t.endpoint,
                        ALICE,
                        t.alices,
                        V,
                        "{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"tools/list\",\"params\":{}}"))),
        DECLARE_CAPABILITIES_AS_A_STRING(
                400,
                reason("MALFORMED_MESSAGE"),
                List.of(ReasonCode.MALFORMED_MESSAGE),
                0,
                0,
                t -> Seen.of(McpHttp.post(t.endpoint, BOB, null, Map.of(), McpHttp.initialize(1, "\"x\"")))),
        COME_WITHOUT_A_TOKEN(401, reason("TOKEN_MISSING"), List.of(ReasonCode.TOKEN_MISSING), 0, 0, t -> {
            McpHttp.Answer answer = McpHttp.post(t.endpoint, null, null, Map.of(), McpHttp.initialize(1));
            assertThat(answer.header("www-authenticate"))
                    .as("the challenge names the scopes the resource needs")
                    .contains("scope=\"tools\"");
            return Seen.of(answer);
        });

        final int status;
        final Consumer<JsonNode> body;
        final List<ReasonCode> audited;
        final int echoRuns;
        final int wipeRuns;
        final Function<HttpAttacksTest, Seen> attack;

        Attack(
                int status,
                Consumer<JsonNode> body,
                List<ReasonCode> audited,
                int echoRuns,
                int wipeRuns,
                Function<HttpAttacksTest, Seen> attack) {
            this.status = status;
            this.body = body;
            this.audited = audited;
            this.echoRuns = echoRuns;
            this.wipeRuns = wipeRuns;
            this.attack = attack;
        }
    }

    @ParameterizedTest
    @EnumSource(Attack.class)
    void theAttackIsRefusedAndTheOwnerCarriesOn(Attack attack) {
        Seen seen = attack.attack.apply(this);

        assertThat(seen.status()).as("HTTP status").isEqualTo(attack.status);
        attack.body.accept(seen.json());
        assertThat(audit.reasons()).as("audit records").containsExactlyElementsOf(attack.audited);
        assertThat(audit.events())
                .allSatisfy(event -> assertThat(event.server()).isEqualTo("attacked"));
        assertThat(echoes.get()).as("echo bodies run").isEqualTo(attack.echoRuns);
        assertThat(wipes.get()).as("wipe bodies run").isEqualTo(attack.wipeRuns);
        McpHttp.Answer owners = McpHttp.post(endpoint, ALICE, alices, V, McpHttp.call(99, "whoami"));
        assertThat(owners.status()).as("Alice's session still works").isEqualTo(200);
        assertThat(owners.firstText()).isEqualTo("still here");
    }

    @Test
    void aSessionThatEndsEndsTheQuestionWaitingInIt() {
        try (SseCall call = SseCall.post(endpoint, ALICE, alices, wipe(60, "{\"path\":\"/srv\"}"))) {
            assertThat(call.next().path("method").asString()).isEqualTo("elicitation/create");

            assertThat(McpHttp.bodiless("DELETE", endpoint, ALICE, alices).status())
                    .isEqualTo(200);

            assertThat(call.next()
                            .path("result")
                            .path("content")
                            .get(0)
                            .path("text")
                            .asString())
                    .isEqualTo("CONFIRMATION_UNAVAILABLE: the confirmation of tool 'wipe' ended unanswered: "
                            + "the session ended");
        }
        assertThat(audit.events()).singleElement().satisfies(event -> {
            assertThat(event.kind()).isEqualTo(AuditEvent.Kind.CALL);
            assertThat(event.reason()).isEqualTo(ReasonCode.CONFIRMATION_UNAVAILABLE);
            assertThat(event.subject()).isEqualTo("alice");
        });
        assertThat(wipes.get()).isZero();
    }

    /**
     * Alice calls {@code wipe} with {@code arguments}; while her question waits, {@code meanwhile}
     * runs with the question; then Alice declines. The row sees what {@code meanwhile} got, or, when
     * it returns {@code null}, the answer to Alice's call.
     */
    Seen whileAliceIsAsked(String arguments, Function<JsonNode, McpHttp.Answer> meanwhile) {
        try (SseCall call = SseCall.post(endpoint, ALICE, alices, wipe(70, arguments))) {
            JsonNode question = call.next();
            assertThat(question.path("method").asString()).isEqualTo("elicitation/create");
            McpHttp.Answer attempt = meanwhile.apply(question);
            assertThat(McpHttp.post(endpoint, ALICE, alices, V, answer(question.path("id"), "decline"))
                            .status())
                    .as("the question still waits for Alice's own answer")
                    .isEqualTo(202);
            JsonNode result = call.next();
            assertThat(result.path("result").path("content").get(0).path("text").asString())
                    .startsWith("USER_DECLINED: ");
            return attempt == null ? Seen.of(call, result) : Seen.of(attempt);
        }
    }

    void awaitRecords(int count) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (audit.events().size() < count && System.nanoTime() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        assertThat(audit.events()).as("audit records").hasSizeGreaterThanOrEqualTo(count);
    }

    static String wipe(int id, String arguments) {
        return "{\"jsonrpc\":\"2.0\",\"id\":" + id
                + ",\"method\":\"tools/call\",\"params\":{\"name\":\"wipe\",\"arguments\":" + arguments + "}}";
    }

    static String accept(JsonNode id) {
        return answer(id, "accept");
    }

    static String answer(JsonNode id, String action) {
        return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":{\"action\":\"" + action + "\"}}";
    }

    static Consumer<JsonNode> reason(String reason) {
        return json -> assertThat(json.path("error")
                        .path("data")
                        .path("dev.mcpsecure/reason")
                        .asString())
                .as("JSON-RPC error reason in " + json)
                .isEqualTo(reason);
    }

    static Consumer<JsonNode> message(String part) {
        return json -> assertThat(json.path("error").path("message").asString())
                .as("JSON-RPC error message")
                .contains(part);
    }

    static Consumer<JsonNode> text(String prefix) {
        return json -> {
            assertThat(json.path("result").path("isError").asBoolean())
                    .as("an error result in " + json)
                    .isTrue();
            assertThat(json.path("result").path("content").get(0).path("text").asString())
                    .startsWith(prefix);
        };
    }
}
