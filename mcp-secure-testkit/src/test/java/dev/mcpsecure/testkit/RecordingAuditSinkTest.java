package dev.mcpsecure.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcpsecure.api.AuditEvent;
import dev.mcpsecure.api.Decision;
import dev.mcpsecure.api.ReasonCode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class RecordingAuditSinkTest {

    private static AuditEvent event(ReasonCode reason) {
        return AuditEvent.surface(
                "s", "t", reason == ReasonCode.ALLOWED ? Decision.allow() : Decision.deny(reason, "d"), false);
    }

    @Test
    void keepsEveryEventFromConcurrentCallersInASnapshot() throws InterruptedException {
        RecordingAuditSink sink = new RecordingAuditSink();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread thread = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int i = 0; i < 250; i++) {
                    sink.record(event(i % 2 == 0 ? ReasonCode.ALLOWED : ReasonCode.TIMEOUT));
                }
            });
            thread.start();
            threads.add(thread);
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join();
        }

        List<AuditEvent> snapshot = sink.events();
        assertThat(snapshot).hasSize(1000);
        assertThat(sink.reasons()).filteredOn(ReasonCode.TIMEOUT::equals).hasSize(500);
        sink.clear();
        assertThat(sink.events()).isEmpty();
        assertThat(snapshot).hasSize(1000);
    }
}
