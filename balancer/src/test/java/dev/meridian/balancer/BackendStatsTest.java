package dev.meridian.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class BackendStatsTest {
  private static final long MS = 1_000_000L;
  private static final long DECAY = 10_000 * MS;
  private long now;
  private final BackendStats stats =
      new BackendStats(new Backend("a", "127.0.0.1", 9001, "r", 1), () -> now, DECAY);

  @Test
  void unsampledCostIsZeroAndTheFirstSampleIsTaken() {
    assertThat(stats.hasSample()).isFalse();
    assertThat(stats.costNanos()).isZero();
    stats.observe(40 * MS);
    assertThat(stats.hasSample()).isTrue();
    assertThat(stats.costNanos()).isEqualTo(40 * MS);
  }

  @Test
  void anObservationAboveTheCurrentCostReplacesIt() {
    stats.observe(10 * MS);
    now += MS;
    stats.observe(200 * MS);
    assertThat(stats.costNanos()).isEqualTo(200 * MS);
  }

  @Test
  void peakIsMeasuredAgainstTheDecayedCostNotTheStoredOne() {
    stats.observe(200 * MS);
    now += DECAY; // current cost: 200 / e = 73.6 ms
    stats.observe(100 * MS);
    assertThat(stats.costNanos()).isEqualTo(100 * MS);
  }

  @Test
  void aLowerObservationMovesTheCostTowardItWithWeightExpOfMinusDtOverDecay() {
    stats.observe(100 * MS);
    now += DECAY / 10;
    double w = Math.exp(-0.1);
    double current = 100 * MS * w;
    stats.observe(10 * MS);
    assertThat(stats.costNanos()).isCloseTo(current * w + 10 * MS * (1 - w), within(1.0));
    assertThat(stats.costNanos()).isBetween(10.0 * MS, current);
  }

  @Test
  void costDecaysTowardZeroWhileIdleAndReadingDoesNotChangeIt() {
    stats.observe(120 * MS);
    now += DECAY;
    assertThat(stats.costNanos()).isCloseTo(120 * MS / Math.E, within(1.0));
    assertThat(stats.costNanos()).isCloseTo(120 * MS / Math.E, within(1.0));
    now += 4 * DECAY;
    assertThat(stats.costNanos()).isLessThan(3.0 * MS);
  }

  @Test
  void inFlightCountsStartedMinusFinished() {
    stats.requestStarted();
    stats.requestStarted();
    stats.requestFinished();
    assertThat(stats.inFlight()).isEqualTo(1);
  }

  @Test
  void groupStatsCarryOverKeepsSurvivorsState() {
    Backend a = new Backend("a", "127.0.0.1", 9001, "r", 1);
    Backend b = new Backend("b", "127.0.0.1", 9002, "r", 1);
    GroupStats old = new GroupStats(List.of(a), () -> now, DECAY);
    old.of(a).observe(7 * MS);
    GroupStats next = new GroupStats(List.of(a, b), () -> now, DECAY).carryOver(old);
    assertThat(next.of(a).costNanos()).isEqualTo(7 * MS);
    assertThat(next.of(b).hasSample()).isFalse();
  }
}
