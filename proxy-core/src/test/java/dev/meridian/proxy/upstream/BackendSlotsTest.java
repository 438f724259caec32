package dev.meridian.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link BackendSlots}: the limit holds, waiters are served in order, and nothing is lost under races. */
class BackendSlotsTest {
  private final List<EventLoop> loops = new ArrayList<>();

  @AfterEach
  void stop() {
    loops.forEach(l -> l.shutdownGracefully(0, 1, TimeUnit.SECONDS));
  }

  private EventLoop loop() {
    EventLoop loop = new DefaultEventLoop();
    loops.add(loop);
    return loop;
  }

  @Test
  void aGivenBackSlotGoesToTheOldestWaiterAndACancelledOneIsSkipped() {
    BackendSlots slots = new BackendSlots(1, 5);
    BackendSlots.Slot slot = slots.of("a");
    EventLoop loop = loop();
    assertThat(slot.tryTake()).isTrue();
    assertThat(slot.tryTake()).as("full").isFalse();
    List<String> granted = new java.util.concurrent.CopyOnWriteArrayList<>();
    long minute = TimeUnit.MINUTES.toNanos(1);
    BackendSlots.Ticket first = slot.enqueue(loop, minute, () -> granted.add("first"), () -> { });
    BackendSlots.Ticket second = slot.enqueue(loop, minute, () -> granted.add("second"), () -> { });
    slot.enqueue(loop, minute, () -> granted.add("third"), () -> { });
    assertThat(slots.queued()).isEqualTo(3);
    assertThat(first.cancel()).isTrue();
    assertThat(first.cancel()).as("once").isFalse();

    slot.release();
    await().atMost(Duration.ofSeconds(5)).until(() -> granted.size() == 1);
    assertThat(granted).containsExactly("second");
    assertThat(second.cancel()).as("already granted").isFalse();
    assertThat(slot.busy()).as("the slot passed to the waiter").isEqualTo(1);
    assertThat(slot.tryTake()).as("someone still waits").isFalse();
    slot.release();
    await().atMost(Duration.ofSeconds(5)).until(() -> granted.size() == 2);
    assertThat(granted).containsExactly("second", "third");
    slot.release();
    assertThat(slot.busy()).isZero();
    assertThat(slots.queued()).isZero();
  }

  @Test
  void aFullQueueRefusesAndAWaiterExpiresOnItsLoop() {
    BackendSlots slots = new BackendSlots(1, 1);
    BackendSlots.Slot slot = slots.of("a");
    EventLoop loop = loop();
    slot.tryTake();
    AtomicInteger expired = new AtomicInteger();
    assertThat(slot.enqueue(loop, TimeUnit.MILLISECONDS.toNanos(500), () -> { }, () -> {
      assertThat(loop.inEventLoop()).isTrue();
      expired.incrementAndGet();
    })).isNotNull();
    assertThat(slots.of("b").enqueue(loop, 1, () -> { }, () -> { })).as("the group's queue is full").isNull();
    await().atMost(Duration.ofSeconds(5)).until(() -> expired.get() == 1);
    assertThat(slots.queued()).isZero();
    slot.release();
    assertThat(slot.busy()).as("nobody waits: the slot is free").isZero();
  }

  @Test
  void aRaisedLimitServesWaitersAtOnce() {
    BackendSlots slots = new BackendSlots(1, 10);
    BackendSlots.Slot slot = slots.of("a");
    EventLoop loop = loop();
    slot.tryTake();
    AtomicInteger granted = new AtomicInteger();
    slot.enqueue(loop, TimeUnit.MINUTES.toNanos(1), granted::incrementAndGet, () -> { });
    slot.enqueue(loop, TimeUnit.MINUTES.toNanos(1), granted::incrementAndGet, () -> { });
    slots.limits(3, 10);
    await().atMost(Duration.ofSeconds(5)).until(() -> granted.get() == 2);
    assertThat(slot.busy()).isEqualTo(3);
  }

  @Test
  void underRacesTheLimitHoldsAndEveryRequestIsServedOrExpiresExactlyOnce() throws Exception {
    int max = 3;
    BackendSlots slots = new BackendSlots(max, 1_000_000);
    BackendSlots.Slot slot = slots.of("a");
    List<EventLoop> workers = List.of(loop(), loop(), loop(), loop());
    AtomicInteger holding = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    AtomicInteger served = new AtomicInteger();
    AtomicInteger expired = new AtomicInteger();
    AtomicInteger cancelled = new AtomicInteger();
    int requests = 20_000;
    Runnable use = () -> {
      peak.accumulateAndGet(holding.incrementAndGet(), Math::max);
      served.incrementAndGet();
      holding.decrementAndGet();
      slot.release();
    };
    for (int i = 0; i < requests; i++) {
      EventLoop loop = workers.get(i % workers.size());
      loop.execute(() -> {
        if (slot.tryTake()) {
          use.run();
          return;
        }
        long timeout = ThreadLocalRandom.current().nextInt(4) == 0 ? 1_000 : TimeUnit.SECONDS.toNanos(30);
        BackendSlots.Ticket t = slot.enqueue(loop, timeout, () -> loop.execute(use), expired::incrementAndGet);
        if (t != null && ThreadLocalRandom.current().nextInt(8) == 0 && t.cancel()) {
          cancelled.incrementAndGet();
        }
      });
    }
    await().atMost(Duration.ofSeconds(30))
        .until(() -> served.get() + expired.get() + cancelled.get() == requests && slot.busy() == 0);
    assertThat(peak.get()).isLessThanOrEqualTo(max);
    assertThat(slots.queued()).isZero();
    assertThat(served.get()).isGreaterThan(requests / 2);
  }
}
