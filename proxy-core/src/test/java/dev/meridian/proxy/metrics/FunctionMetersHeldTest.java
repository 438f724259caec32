package dev.meridian.proxy.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.ref.WeakReference;
import java.time.Duration;
import dev.meridian.proxy.testing.CapturedLog;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.logging.log4j.Level;
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

  /**
   * A reload registers each group's meters again: the queue gauge stays the first one (which reads
   * the routing in force), and Micrometer is not asked twice (it logs "This Gauge has been already
   * registered" at WARN once per process, at DEBUG after: both are caught here).
   */
  @Test
  void aReloadRegistersTheQueueGaugeOnceWithoutMicrometersWarning() {
    try (CapturedLog micrometer = CapturedLog.of(io.micrometer.core.instrument.MeterRegistry.class, Level.ALL)) {
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      ProxyMetrics metrics = new ProxyMetrics(registry);
      metrics.registerBackendQueue("web", () -> 3);
      metrics.registerBackendQueue("web", () -> 4);
      assertThat(registry.get("meridian.backend.queued").tag("group", "web").gauges()).hasSize(1);
      assertThat(registry.get("meridian.backend.queued").tag("group", "web").gauge().value()).isEqualTo(3.0);
      assertThat(micrometer.messages()).noneMatch(line -> line.contains("already registered"));
    }
  }
}
