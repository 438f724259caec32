package dev.meridian.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A 5xx answer counts in the EWMA as twice the group's slowest backend, so a backend failing at once is no fastest. */
class GroupStatsTest {
  private static final long MS = 1_000_000L;
  private long now;
  private final Backend fast = new Backend("fast", "127.0.0.1", 9001, "r", 1);
  private final Backend slow = new Backend("slow", "127.0.0.1", 9002, "r", 1);
  private final Backend failing = new Backend("failing", "127.0.0.1", 9003, "r", 1);
  private final GroupStats stats = new GroupStats(List.of(fast, slow, failing), () -> now, 10_000 * MS);

  @Test
  void aFailureCountsAsTwiceTheSlowestBackendsLatency() {
    stats.of(fast).observe(5 * MS);
    stats.of(slow).observe(20 * MS);
    stats.of(failing).observe(stats.failureLatency(failing, MS / 10));
    assertThat(stats.of(failing).costNanos()).isEqualTo(40 * MS);
    assertThat(stats.failureLatency(failing, 80 * MS)).as("a slow failure counts as itself").isEqualTo(80 * MS);
  }

  @Test
  void withNothingMeasuredYetAFailureCountsAsAMillisecond() {
    assertThat(stats.failureLatency(failing, 1000)).isEqualTo(MS);
  }

  /** A backend failing once a second kept doubling the group's slowest cost, its own included, without end. */
  @Test
  void repeatedFailuresDoNotFeedOnThemselves() {
    stats.of(fast).observe(20 * MS);
    stats.of(slow).observe(20 * MS);
    for (int i = 0; i < 50; i++) {
      now += 1000 * MS;
      stats.of(slow).observe(20 * MS);
      stats.of(failing).observe(stats.failureLatency(failing, MS / 10));
    }
    assertThat(stats.of(failing).costNanos()).as("twice the others' latency, not ever more").isLessThanOrEqualTo(40.0 * MS);
    // Every backend failing in turn (a URL that fails everywhere) stays within the cap.
    for (int i = 0; i < 50; i++) {
      now += 100 * MS;
      for (Backend each : java.util.List.of(fast, slow, failing)) {
        stats.of(each).observe(stats.failureLatency(each, MS / 10));
      }
    }
    for (Backend each : java.util.List.of(fast, slow, failing)) {
      assertThat(stats.of(each).costNanos()).isLessThanOrEqualTo(GroupStats.MAX_FAILURE_LATENCY_SECONDS * 1000.0 * MS);
    }
  }
}
