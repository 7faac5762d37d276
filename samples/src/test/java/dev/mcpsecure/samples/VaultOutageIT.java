package dev.mcpsecure.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.testkit.OpenBaoServer;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * OpenBao stopped and started again while clients keep calling the HTTP-API sample: calls that
 * need a new token fail closed with VAULT_UNAVAILABLE within the vault's connect and read bound,
 * calls that need none go on, and after the restart tokens flow again without restarting the
 * server. Every call is audited.
 */
class VaultOutageIT {

    private static final Duration EGRESS_TOKEN_TTL = Duration.ofSeconds(30);
    private static final Duration FAIL_BOUND = Duration.ofMillis(7_500); // vault connect 2 s + read 5 s + slack

    @RegisterExtension
    static final OpenBaoServer bao = new OpenBaoServer();

    @TempDir
    Path tmp;

    /** One call's outcome: when it ended, whether it carried a token, its reason, how long it took. */
    private record Outcome(long endedNanos, boolean withToken, String reason, Duration took) {}

    @Test
    void callsNeedingATokenFailClosedDuringTheOutageAndRecoverAfterIt() throws Exception {
        try (LoadRig rig = new LoadRig(bao, tmp, EGRESS_TOKEN_TTL)) {
            List<Outcome> outcomes = new CopyOnWriteArrayList<>();
            AtomicBoolean running = new AtomicBoolean(true);
            List<CompletableFuture<Void>> clients = List.of(
                    CompletableFuture.runAsync(() -> callUntilStopped(rig, true, running, outcomes)),
                    CompletableFuture.runAsync(() -> callUntilStopped(rig, true, running, outcomes)),
                    CompletableFuture.runAsync(() -> callUntilStopped(rig, false, running, outcomes)));
            Thread.sleep(3_000);
            assertThat(outcomes).as("calls flow before the outage").isNotEmpty();
            assertThat(outcomes).allMatch(outcome -> outcome.reason().equals("ok"));

            long outage = System.nanoTime();
            bao.stop();
            await(
                    () -> outcomes.stream()
                            .anyMatch(o -> o.endedNanos() > outage && o.reason().equals("VAULT_UNAVAILABLE")),
                    EGRESS_TOKEN_TTL.plusSeconds(15));
            Thread.sleep(2_000);
            long restart = System.nanoTime();
            bao.start();
            rig.reprovisionServer();
            await(
                    () -> outcomes.stream()
                            .anyMatch(o -> o.endedNanos() > restart
                                    && o.withToken()
                                    && o.reason().equals("ok")),
                    Duration.ofSeconds(45));
            running.set(false);
            CompletableFuture.allOf(clients.toArray(CompletableFuture[]::new)).join();

            List<Outcome> duringOutage = outcomes.stream()
                    .filter(o -> o.endedNanos() > outage && o.endedNanos() < restart)
                    .toList();
            assertThat(duringOutage)
                    .as("during the outage, calls either succeed or fail closed with VAULT_UNAVAILABLE, nothing else")
                    .allMatch(o -> o.reason().equals("ok") || o.reason().equals("VAULT_UNAVAILABLE"));
            assertThat(duringOutage)
                    .filteredOn(o -> o.reason().equals("VAULT_UNAVAILABLE"))
                    .isNotEmpty()
                    .allMatch(o -> o.withToken(), "only calls that need a token fail")
                    .allMatch(o -> o.took().compareTo(FAIL_BOUND) < 0, "each failure comes within the bound");
            assertThat(duringOutage)
                    .filteredOn(o -> !o.withToken())
                    .as("calls that need no token go on")
                    .isNotEmpty()
                    .allMatch(o -> o.reason().equals("ok"));
            assertThat(outcomes)
                    .filteredOn(o -> o.endedNanos() > restart && o.withToken())
                    .as("after the restart, tokens flow again")
                    .anyMatch(o -> o.reason().equals("ok"));
            long audited = rig.audit.events().stream()
                    .filter(event -> event.kind() == AuditEvent.Kind.CALL && "fetch_json".equals(event.tool()))
                    .map(AuditEvent::reason)
                    .count();
            assertThat(audited).as("every call audited, one call record each").isEqualTo(outcomes.size());
            assertThat(rig.audit.events().stream()
                            .filter(event -> event.kind() == AuditEvent.Kind.CALL
                                    && event.reason() == dev.mcpsecure.api.ReasonCode.VAULT_UNAVAILABLE)
                            .count())
                    .as("the call records of the calls that failed closed")
                    .isEqualTo(outcomes.stream()
                            .filter(o -> o.reason().equals("VAULT_UNAVAILABLE"))
                            .count());
            System.err.printf(
                    "vault outage: %d calls, %d during the outage (%d VAULT_UNAVAILABLE, slowest failure %d ms)%n",
                    outcomes.size(),
                    duringOutage.size(),
                    duringOutage.stream()
                            .filter(o -> o.reason().equals("VAULT_UNAVAILABLE"))
                            .count(),
                    duringOutage.stream()
                            .filter(o -> o.reason().equals("VAULT_UNAVAILABLE"))
                            .mapToLong(o -> o.took().toMillis())
                            .max()
                            .orElse(0));
        }
    }

    private static void callUntilStopped(
            LoadRig rig, boolean withToken, AtomicBoolean running, List<Outcome> outcomes) {
        McpSyncClient client = McpClient.sync(HttpClientStreamableHttpTransport.builder(rig.resource)
                        .requestBuilder(HttpRequest.newBuilder().header("Authorization", "Bearer " + rig.token))
                        .build())
                .requestTimeout(Duration.ofSeconds(60))
                .build();
        try {
            client.initialize();
            while (running.get()) {
                long start = System.nanoTime();
                McpSchema.CallToolResult result = client.callTool(McpSchema.CallToolRequest.builder("fetch_json")
                        .arguments(Map.of("url", rig.weather, "audience", withToken ? SampleApi.AUDIENCE : ""))
                        .build());
                String reason = Boolean.TRUE.equals(result.isError())
                        ? String.valueOf(
                                result.meta() == null ? "error" : result.meta().get("dev.mcpsecure/reason"))
                        : "ok";
                long end = System.nanoTime();
                outcomes.add(new Outcome(end, withToken, reason, Duration.ofNanos(end - start)));
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            client.closeGracefully();
        }
    }

    private static void await(java.util.function.BooleanSupplier condition, Duration limit)
            throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waited %s", limit).isLessThan(deadline);
            Thread.sleep(200);
        }
    }
}
