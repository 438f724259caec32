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
    stats.of(failing).observe(stats.failureLatency(MS / 10));
    assertThat(stats.of(failing).costNanos()).isEqualTo(40 * MS);
    assertThat(stats.failureLatency(80 * MS)).as("a slow failure counts as itself").isEqualTo(80 * MS);
  }

  @Test
  void withNothingMeasuredYetAFailureCountsAsAMillisecond() {
    assertThat(stats.failureLatency(1000)).isEqualTo(MS);
  }
}
