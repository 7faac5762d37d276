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
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A session belongs to the principal that created it (token subject and client): over real HTTP
 * with tokens for three principals, another principal's request, stream, DELETE or JSON-RPC
 * response in it is answered as for an unknown session (404, {@code SESSION_UNKNOWN}), audited as
 * {@code SESSION_NOT_OWNED}, runs nothing, and leaves the owner's session working; rate limits
 * follow the principal across sessions; the session cap holds under concurrent {@code initialize}.
 */
class SessionOwnershipTest {

    static final String OWNER = rs256(c -> c.subject("alice").claim("client_id", "desk"));
    static final String INTRUDER = rs256(c -> c.subject("mallory").claim("client_id", "desk"));
    static final String SAME_USER_OTHER_CLIENT = rs256(c -> c.subject("alice").claim("client_id", "other-app"));

    final RecordingAuditSink audit = new RecordingAuditSink();
    final AtomicInteger echoes = new AtomicInteger();
    SecureHttpServer http;
    URI endpoint;

    @BeforeEach
    void start() {
        http = server(
                3,
                3,
                ToolPolicy.builder("echo").rateLimit(3, Duration.ofMinutes(1)).build());
        endpoint = http.endpoint();
    }

    @AfterEach
    void stop() {
        http.close();
    }

    SecureHttpServer server(int maxSessions, int perPrincipal, ToolPolicy echo) {
        SecurityPolicy policy = SecurityPolicy.builder()
                .server("owned", "")
                .tool(echo)
                .transport(TransportPolicy.builder()
                        .maxSessions(maxSessions)
                        .maxSessionsPerPrincipal(perPrincipal)
                        .auth(HttpFixture.AUTH)
                        .build())
                .build();
        SecureMcpServer.Builder server = SecureMcpServer.builder(policy)
                .auditSink(audit)
                .tool(HttpFixture.tool("echo", request -> "echo " + echoes.incrementAndGet()));
        return SecureHttpServer.builder(server, policy)
                .tokenVerifier(JwtTokenVerifier.builder(Tokens.ISSUER, Tokens.RESOURCE)
                        .keys(Tokens.JWKS)
                        .build())
                .start();
    }

    /** What a principal other than the owner tries in the owner's session. */
    enum Attack {
        CALL_A_TOOL(intruder -> (endpoint, session) -> McpHttp.post(
                endpoint, intruder, session, Map.of("MCP-Protocol-Version", "2025-11-25"), McpHttp.call(7, "echo"))),
        OPEN_ITS_STREAM(intruder -> (endpoint, session) -> McpHttp.bodiless("GET", endpoint, intruder, session)),
        DELETE_IT(intruder -> (endpoint, session) -> McpHttp.bodiless("DELETE", endpoint, intruder, session)),
        ANSWER_ITS_CONFIRMATION(intruder -> (endpoint, session) -> McpHttp.post(
                endpoint,
                intruder,
                session,
                Map.of("MCP-Protocol-Version", "2025-11-25"),
                "{\"jsonrpc\":\"2.0\",\"id\":\"" + session + "-1\",\"result\":{\"action\":\"accept\"}}")),
        LIST_ITS_TOOLS(intruder -> (endpoint, session) -> McpHttp.post(
                endpoint, intruder, session, Map.of("MCP-Protocol-Version", "2025-11-25"), McpHttp.list(8)));

        final Function<String, Try> attack;

        Attack(Function<String, Try> attack) {
            this.attack = attack;
        }
    }

    @FunctionalInterface
    interface Try {
        McpHttp.Answer against(URI endpoint, String session);
    }

    @ParameterizedTest
    @EnumSource(Attack.class)
    void anotherPrincipalCannotUseTheSession(Attack attack) {
        for (String intruder : List.of(INTRUDER, SAME_USER_OTHER_CLIENT)) {
            String session = McpHttp.session(endpoint, OWNER);
            audit.clear();
            int before = echoes.get();

            McpHttp.Answer answer = attack.attack.apply(intruder).against(endpoint, session);

            assertThat(answer.status()).as("answered as an unknown session").isEqualTo(404);
            assertThat(answer.json()
                            .path("error")
                            .path("data")
                            .path("dev.mcpsecure/reason")
                            .asString())
                    .isEqualTo("SESSION_UNKNOWN");
            assertThat(answer.response().body()).doesNotContain("alice", "Exception", ".java");
            assertThat(audit.events()).singleElement().satisfies(event -> {
                assertThat(event.kind()).isEqualTo(AuditEvent.Kind.TRANSPORT);
                assertThat(event.reason()).isEqualTo(ReasonCode.SESSION_NOT_OWNED);
                assertThat(event.subject()).isIn("mallory", "alice");
                assertThat(event.clientId()).isIn("desk", "other-app");
            });
            assertThat(echoes.get()).as("no tool ran").isEqualTo(before);
            McpHttp.Answer owners = McpHttp.post(
                    endpoint, OWNER, session, Map.of("MCP-Protocol-Version", "2025-11-25"), McpHttp.call(9, "echo"));
            assertThat(owners.status()).as("the owner's session still works").isEqualTo(200);
            assertThat(owners.firstText()).startsWith("echo ");
            McpHttp.bodiless("DELETE", endpoint, OWNER, session);
        }
    }

    @Test
    void initializeNamingASessionIsRefused() {
        String session = McpHttp.session(endpoint, OWNER);
        audit.clear();

        McpHttp.Answer answer = McpHttp.post(endpoint, OWNER, session, Map.of(), McpHttp.initialize(2));

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.json()
                        .path("error")
                        .path("data")
                        .path("dev.mcpsecure/reason")
                        .asString())
                .isEqualTo("MALFORMED_MESSAGE");
        assertThat(audit.reasons()).containsExactly(ReasonCode.MALFORMED_MESSAGE);
        assertThat(http.liveSessions()).isEqualTo(1);
    }

    @Test
    void aRateLimitFollowsThePrincipalAcrossNewSessions() {
        List<String> texts = new ArrayList<>();
        for (int round = 0; round < 2; round++) {
            String session = McpHttp.session(endpoint, OWNER);
            for (int i = 0; i < 2; i++) {
                texts.add(McpHttp.post(
                                endpoint,
                                OWNER,
                                session,
                                Map.of("MCP-Protocol-Version", "2025-11-25"),
                                McpHttp.call(10 + i, "echo"))
                        .firstText());
            }
            assertThat(McpHttp.bodiless("DELETE", endpoint, OWNER, session).status())
                    .isEqualTo(200);
        }

        assertThat(texts).hasSize(4);
        assertThat(texts.subList(0, 3)).allSatisfy(text -> assertThat(text).startsWith("echo "));
        assertThat(texts.get(3)).startsWith("RATE_LIMITED: ");
        // another principal has an allowance of its own
        String other = McpHttp.session(endpoint, INTRUDER);
        assertThat(McpHttp.post(
                                endpoint,
                                INTRUDER,
                                other,
                                Map.of("MCP-Protocol-Version", "2025-11-25"),
                                McpHttp.call(20, "echo"))
                        .firstText())
                .startsWith("echo ");
    }

    @Test
    void onePrincipalCannotTakeEverySession() {
        http.close();
        http = server(20, 2, ToolPolicy.readOnly("echo"));
        endpoint = http.endpoint();
        String first = McpHttp.session(endpoint, OWNER);
        McpHttp.session(endpoint, OWNER);
        audit.clear();

        McpHttp.Answer third = McpHttp.post(endpoint, OWNER, null, Map.of(), McpHttp.initialize(3));

        assertThat(third.status()).isEqualTo(503);
        assertThat(third.json().path("error").path("message").asString())
                .contains("this caller holds its maximum of 2 live sessions");
        assertThat(audit.reasons()).containsExactly(ReasonCode.SESSION_LIMIT);
        assertThat(McpHttp.session(endpoint, INTRUDER))
                .as("another principal still gets one")
                .isNotBlank();
        assertThat(McpHttp.bodiless("DELETE", endpoint, OWNER, first).status()).isEqualTo(200);
        assertThat(McpHttp.session(endpoint, OWNER))
                .as("a place freed by DELETE")
                .isNotBlank();
        assertThat(http.liveSessions()).isEqualTo(3);
    }

    @Test
    void aSessionKeepsNoMoreOfItsClientsDeclarationsThanTheLimit() {
        String huge = "x".repeat(20_000);
        audit.clear();

        McpHttp.Answer answer = McpHttp.post(
                endpoint,
                OWNER,
                null,
                Map.of(),
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                        + "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"" + huge
                        + "\",\"version\":\"1\"}}}");

        assertThat(answer.status()).isEqualTo(413);
        assertThat(answer.json()
                        .path("error")
                        .path("data")
                        .path("dev.mcpsecure/reason")
                        .asString())
                .isEqualTo("REQUEST_TOO_LARGE");
        assertThat(answer.response().body()).doesNotContain(huge.substring(0, 200));
        assertThat(audit.reasons()).containsExactly(ReasonCode.REQUEST_TOO_LARGE);
        assertThat(http.liveSessions()).isZero();
    }

    @Test
    void theSessionCapHoldsUnderConcurrentInitialize() throws Exception {
        http.close();
        http = server(5, 100, ToolPolicy.readOnly("echo"));
        endpoint = http.endpoint();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Callable<Integer>> bursts = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                bursts.add(() -> McpHttp.post(endpoint, OWNER, null, Map.of(), McpHttp.initialize(1))
                        .status());
            }
            List<Integer> statuses = new ArrayList<>();
            for (Future<Integer> status : pool.invokeAll(bursts)) {
                statuses.add(status.get());
            }
            assertThat(statuses).filteredOn(status -> status == 200).hasSize(5);
            assertThat(statuses).filteredOn(status -> status == 503).hasSize(35);
            assertThat(http.liveSessions()).isEqualTo(5);
            assertThat(audit.reasons())
                    .filteredOn(reason -> reason == ReasonCode.SESSION_LIMIT)
                    .hasSize(35);
        } finally {
            pool.shutdownNow();
        }
    }
}
