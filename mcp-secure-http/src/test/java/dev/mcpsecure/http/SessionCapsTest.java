package dev.mcpsecure.http;

import static dev.mcpsecure.http.Tokens.rs256;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.api.ReasonCode;
import dev.mcpsecure.api.SecurityPolicy;
import dev.mcpsecure.api.ToolPolicy;
import dev.mcpsecure.api.TransportPolicy;
import dev.mcpsecure.core.SecureMcpServer;
import dev.mcpsecure.testkit.RecordingAuditSink;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The session caps hold exactly under concurrency: bursts of {@code initialize}, some of them
 * naming a live session in their header, over real HTTP, open exactly as many sessions as the
 * server-wide and per-principal caps allow, and every other one is refused and audited. (The
 * attacks on sessions one by one are rows of {@link HttpAttacksTest}.)
 */
class SessionCapsTest {

    static final String ALICE = rs256(c -> c.subject("alice").claim("client_id", "desk"));
    static final String BOB = rs256(c -> c.subject("bob").claim("client_id", "desk"));

    final RecordingAuditSink audit = new RecordingAuditSink();
    SecureHttpServer http;
    URI endpoint;

    @AfterEach
    void stop() {
        http.close();
    }

    void start(int maxSessions, int perPrincipal) {
        SecurityPolicy policy = SecurityPolicy.builder()
                .server("capped", "")
                .tool(ToolPolicy.readOnly("echo"))
                .transport(TransportPolicy.builder()
                        .maxSessions(maxSessions)
                        .maxSessionsPerPrincipal(perPrincipal)
                        .auth(HttpFixture.AUTH)
                        .build())
                .build();
        SecureMcpServer.Builder server =
                SecureMcpServer.builder(policy).auditSink(audit).tool(HttpFixture.tool("echo", request -> "echo"));
        http = SecureHttpServer.builder(server, policy)
                .tokenVerifier(JwtTokenVerifier.builder(Tokens.ISSUER, Tokens.RESOURCE)
                        .keys(Tokens.JWKS)
                        .build())
                .start();
        endpoint = http.endpoint();
    }

    /** Sends every request of {@code burst} at once, from 16 threads; returns the statuses in order. */
    static List<Integer> concurrently(List<Callable<Integer>> burst) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Integer> statuses = new ArrayList<>();
            for (Future<Integer> status : pool.invokeAll(burst)) {
                statuses.add(status.get());
            }
            return statuses;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void theServerCapHoldsUnderConcurrentInitialize() throws Exception {
        start(6, 100);
        String live = McpHttp.session(endpoint, ALICE);
        audit.clear();
        List<Callable<Integer>> burst = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            String header = i % 3 == 0 ? live : null; // a third name the live session
            burst.add(() -> McpHttp.post(endpoint, ALICE, header, Map.of(), McpHttp.initialize(1))
                    .status());
        }

        List<Integer> statuses = concurrently(burst);

        assertThat(statuses).filteredOn(status -> status == 200).hasSize(5);
        assertThat(statuses).filteredOn(status -> status == 400).hasSize(20);
        assertThat(statuses).filteredOn(status -> status == 503).hasSize(35);
        assertThat(http.liveSessions()).isEqualTo(6);
        assertThat(audit.reasons())
                .filteredOn(reason -> reason == ReasonCode.SESSION_LIMIT)
                .hasSize(35);
        assertThat(audit.reasons())
                .filteredOn(reason -> reason == ReasonCode.MALFORMED_MESSAGE)
                .hasSize(20);
    }

    @Test
    void thePerPrincipalCapHoldsUnderConcurrentInitialize() throws Exception {
        start(50, 4);
        List<Callable<Integer>> burst = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            String token = i % 2 == 0 ? ALICE : BOB;
            burst.add(() -> McpHttp.post(endpoint, token, null, Map.of(), McpHttp.initialize(1))
                    .status());
        }

        List<Integer> statuses = concurrently(burst);

        assertThat(statuses).filteredOn(status -> status == 200).hasSize(8);
        assertThat(statuses).filteredOn(status -> status == 503).hasSize(32);
        assertThat(http.liveSessions()).isEqualTo(8);
        assertThat(audit.reasons()).containsOnly(ReasonCode.SESSION_LIMIT).hasSize(32);
        assertThat(McpHttp.session(endpoint, rs256(c -> c.subject("carol"))))
                .as("a third principal still gets a session")
                .isNotBlank();
    }
}
