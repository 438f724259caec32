package dev.meridian.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.metrics.ProxyMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A connection's memo of its last meters records on the right route and backend as they change. */
class MeterMemoTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final ProxyMetrics metrics = new ProxyMetrics(registry);
  private final MeterMemo memo = new MeterMemo(metrics);

  @Test
  void requestsCountOnTheirOwnRouteAndStatusClassAsTheRouteChanges() {
    for (int status : new int[] {200, 204, 503}) {
      metrics.requestStarted();
      memo.requestFinished("api", status, 1_000_000, 0, 10);
    }
    metrics.requestStarted();
    memo.requestFinished(new String("static"), 404, 1_000_000, 0, 10);
    metrics.requestStarted();
    memo.requestFinished(new String("api"), 200, 1_000_000, 0, 10); // an equal name from a reloaded route

    assertThat(count("api", "2xx")).isEqualTo(3);
    assertThat(count("api", "5xx")).isEqualTo(1);
    assertThat(count("static", "4xx")).isEqualTo(1);
    assertThat(count("static", "2xx")).isZero();
    assertThat(metrics.inFlight()).isZero();
  }

  @Test
  void upstreamTimesGoToTheBackendThatAnswered() {
    memo.upstreamResponded("app", "b1", TimeUnit.MILLISECONDS.toNanos(5));
    memo.upstreamResponded("app", "b2", TimeUnit.MILLISECONDS.toNanos(7));
    memo.upstreamResponded("app", "b2", TimeUnit.MILLISECONDS.toNanos(9));
    memo.upstreamResponded("app", "b1", TimeUnit.MILLISECONDS.toNanos(11));
    memo.upstreamResponded("other", "b1", TimeUnit.MILLISECONDS.toNanos(13));

    assertThat(timerCount("app", "b1")).isEqualTo(2);
    assertThat(timerCount("app", "b2")).isEqualTo(2);
    assertThat(timerCount("other", "b1")).as("an id is unique in its group only").isEqualTo(1);
    assertThat(registry.get("meridian.upstream.response.time").tag("group", "app").tag("backend", "b1").timer()
        .totalTime(TimeUnit.MILLISECONDS)).isEqualTo(16.0);
  }

  private double count(String route, String statusClass) {
    return registry.get("meridian.requests").tag("route", route).tag("status", statusClass).counter().count();
  }

  private long timerCount(String group, String backend) {
    return registry.get("meridian.upstream.response.time").tag("group", group).tag("backend", backend).timer()
        .count();
  }
}
