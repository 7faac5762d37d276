package dev.mcpsecure.core.internal.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.AuditPolicy;
import dev.mcpsecure.api.AuditSink;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.core.AuditCounters;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The audit gate with a clock it is handed: failing, slow and stuck sinks, fail closed and open. */
class AuditGateTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(1);
    private final AtomicLong clock = new AtomicLong();
    private final AtomicInteger offered = new AtomicInteger();

    private static final AuditEvent EVENT = AuditEvent.surface("s", "t", Decision.allow(), false);

    private AuditGate gate(AuditPolicy.FailMode mode, AuditSink sink) {
        return new AuditGate(
                event -> {
                    offered.incrementAndGet();
                    sink.record(event);
                },
                new AuditPolicy(false, mode, TIMEOUT),
                clock::get);
    }

    @Test
    void aWorkingSinkRecords() {
        AuditGate gate = gate(AuditPolicy.FailMode.CLOSED, event -> {});

        assertThat(gate.record(EVENT)).isTrue();
        assertThat(gate.counters()).isEqualTo(new AuditCounters(1, 0, 0));
    }

    @Test
    void aThrowingSinkFailsClosedOrOpen() {
        AuditSink broken = event -> {
            throw new IllegalStateException("disk full");
        };

        assertThat(gate(AuditPolicy.FailMode.CLOSED, broken).record(EVENT)).isFalse();
        AuditGate open = gate(AuditPolicy.FailMode.OPEN, broken);
        assertThat(open.record(EVENT)).isTrue();
        assertThat(open.counters()).isEqualTo(new AuditCounters(0, 1, 0));
    }

    @Test
    void aWriteLongerThanTheTimeoutCountsAsFailed() {
        AuditSink slow = event -> clock.addAndGet(TIMEOUT.plusMillis(1).toNanos());

        AuditGate closed = gate(AuditPolicy.FailMode.CLOSED, slow);
        assertThat(closed.record(EVENT)).isFalse();
        assertThat(closed.counters()).isEqualTo(new AuditCounters(0, 1, 0));
        assertThat(gate(AuditPolicy.FailMode.OPEN, slow).record(EVENT)).isTrue();
    }

    @Test
    void whileASinkIsStuckEventsAreDroppedWithoutWaitingOnIt() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AuditGate gate = gate(AuditPolicy.FailMode.CLOSED, event -> {
            if (offered.get() > 1) {
                return; // only the first write hangs
            }
            inside.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        CompletableFuture<Boolean> stuckCall = CompletableFuture.supplyAsync(() -> gate.record(EVENT));
        assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();

        assertThat(gate.record(EVENT))
                .as("within the timeout, the next event still waits its turn")
                .isTrue();
        clock.addAndGet(TIMEOUT.plusMillis(1).toNanos());
        assertThat(gate.record(EVENT))
                .as("past it, the sink is stuck: refused at once")
                .isFalse();
        assertThat(offered).as("the dropped event never reached the sink").hasValue(2);

        release.countDown();
        assertThat(stuckCall.get(10, TimeUnit.SECONDS))
                .as("the stuck write took too long")
                .isFalse();
        assertThat(gate.counters()).isEqualTo(new AuditCounters(1, 1, 1));
        assertThat(gate.record(EVENT)).as("unstuck, it records again").isTrue();
    }
}
