package dev.meridian.proxy.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Meters that read a supplier the caller makes on the spot keep reading it after a garbage
 * collection: Micrometer holds a gauge's or function counter's object weakly, so ProxyMetrics must
 * hold those suppliers itself (a collected one reads NaN).
 */
class FunctionMetersHeldTest {
  @Test
  void panicPicksAndBackendQueueStillReadAfterACollection() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ProxyMetrics metrics = new ProxyMetrics(registry);
    AtomicLong picks = new AtomicLong(7);
    metrics.registerGroup("web", () -> picks.get()); // a capturing lambda: a new object nobody else holds
    metrics.registerBackendQueue("web", () -> (int) picks.get() + 1);

    WeakReference<Object> canary = new WeakReference<>(new Object());
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      System.gc();
      return canary.get() == null;
    });

    assertThat(registry.get("meridian.balancer.panic.picks").tag("group", "web").functionCounter().count())
        .isEqualTo(7.0);
    assertThat(registry.get("meridian.backend.queued").tag("group", "web").gauge().value()).isEqualTo(8.0);
  }
}
