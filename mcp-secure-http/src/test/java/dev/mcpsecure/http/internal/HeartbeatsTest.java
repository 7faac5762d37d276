package dev.mcpsecure.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class HeartbeatsTest {

    @Test
    void beatsGoOnlyBetweenWholeEvents() throws Exception {
        StringWriter written = new StringWriter();
        int events = 0;
        try (Heartbeats heartbeats = new Heartbeats(Duration.ofMillis(1))) {
            PrintWriter stream = heartbeats.watch(new PrintWriter(written), () -> {});
            // events until beats have gone in among them (a busy machine may start the timer late);
            // ":\n\n" is only ever a beat: no line of an event ends in a colon
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (events < 20_000 || (written.getBuffer().indexOf(":\n\n") < 0 && System.nanoTime() < deadline)) {
                for (int end = events + 1_000; events < end; events++) { // as the SDK writes an event
                    stream.write("id: " + events + "\n");
                    stream.write("event: message\n");
                    stream.write("data: {\"n\":" + events + "}\n\n");
                    stream.flush();
                }
            }
        }

        String[] blocks = written.toString().split("\n\n");
        assertThat(Arrays.stream(blocks).filter(":"::equals).count())
                .as("some beats went in")
                .isPositive();
        assertThat(blocks)
                .filteredOn(block -> !block.equals(":"))
                .hasSize(events)
                .allSatisfy(block -> assertThat(block).matches("id: \\d+\nevent: message\ndata: \\{\"n\":\\d+}"));
    }

    @Test
    void aStreamWhoseWriterThrowsStopsOnlyItself() throws Exception {
        StringWriter healthy = new StringWriter();
        Writer completed = new Writer() {
            @Override
            public void write(char[] buffer, int offset, int length) {
                throw new IllegalStateException("the response is completed");
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        try (Heartbeats heartbeats = new Heartbeats(Duration.ofMillis(5))) {
            heartbeats.watch(new PrintWriter(completed), () -> {});
            heartbeats.watch(new PrintWriter(healthy), () -> {});
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (healthy.toString().split(":\n\n", -1).length < 4 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(heartbeats.watched())
                    .as("the throwing stream is dropped")
                    .isEqualTo(1);
        }
        assertThat(healthy.toString()).as("the other stream keeps beating").contains(":\n\n:\n\n:\n\n");
    }

    @Test
    void aBeatBlockedOnAClientThatStoppedReadingHoldsUpNoOtherStream() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blocked = new CountDownLatch(1);
        Writer stuck = new Writer() {
            @Override
            public void write(char[] buffer, int offset, int length) {
                blocked.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS); // as a socket write to a full window blocks
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        StringWriter healthy = new StringWriter();
        try (Heartbeats heartbeats = new Heartbeats(Duration.ofMillis(5))) {
            heartbeats.watch(new PrintWriter(stuck), () -> {});
            assertThat(blocked.await(5, TimeUnit.SECONDS)).isTrue();
            heartbeats.watch(new PrintWriter(healthy), () -> {});
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (healthy.toString().split(":\n\n", -1).length < 6 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(healthy.toString())
                    .as("the other stream beats while one write is blocked")
                    .contains(":\n\n:\n\n:\n\n:\n\n:\n\n");
        } finally {
            release.countDown();
        }
    }

    @Test
    void aStreamThatCannotBeWrittenEndsOnceAndIsNoLongerWatched() throws Exception {
        AtomicInteger gone = new AtomicInteger();
        Writer broken = new Writer() {
            @Override
            public void write(char[] buffer, int offset, int length) throws java.io.IOException {
                throw new java.io.IOException("broken pipe");
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        try (Heartbeats heartbeats = new Heartbeats(Duration.ofMillis(5))) {
            heartbeats.watch(new PrintWriter(broken), gone::incrementAndGet);
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (heartbeats.watched() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            Thread.sleep(50);
            assertThat(heartbeats.watched()).isZero();
        }
        assertThat(gone).hasValue(1);
    }
}
