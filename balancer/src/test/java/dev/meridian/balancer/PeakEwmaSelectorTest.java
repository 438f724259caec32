package dev.meridian.balancer;

import static dev.meridian.balancer.LatencySimulation.count;
import static dev.meridian.balancer.LatencySimulation.share;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PeakEwmaSelectorTest {
  private static final org.slf4j.Logger REPORT = org.slf4j.LoggerFactory.getLogger(PeakEwmaSelectorTest.class);

  /** One request every 2 ms (500 requests per second). */
  private static final long EVERY_2MS = 2_000;

  /** A simulation of backends with these latencies behind a peak-EWMA selector with a seeded random source. */
  private static LatencySimulation simulation(long seed, long... rttMillis) {
    return new LatencySimulation(rttMillis,
        (backends, stats) -> new PeakEwmaSelector(backends, HealthView.ALL_AVAILABLE, stats, new SplittableRandom(seed)));
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 42, 2024})
  void fastestBackendGetsAtLeast95PercentAfterWarmUp(long seed) {
    LatencySimulation sim = simulation(seed, 5, 40, 120);
    sim.run(2_500, EVERY_2MS); // 5 s warm-up
    int[] picks = sim.run(30_000, EVERY_2MS); // 60 s
    REPORT.info(String.format("5/40/120 ms: shares %.4f %.4f %.4f",
        share(picks, 0, picks.length, 0), share(picks, 0, picks.length, 1), share(picks, 0, picks.length, 2)));
    assertThat(share(picks, 0, picks.length, 0)).isGreaterThanOrEqualTo(0.95);
    // The slower ones are still probed now and then as their cost decays: they are not forgotten.
    assertThat(count(picks, 0, picks.length, 1)).isPositive();
    assertThat(count(picks, 0, picks.length, 2)).isPositive();
    assertThat(sim.extraProbes).isZero();
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 42, 2024})
  void trafficLeavesTheFastestWithinABoundedNumberOfRequestsWhenItTurnsSlow(long seed) {
    LatencySimulation sim = simulation(seed, 5, 40, 120);
    sim.run(5_000, EVERY_2MS);
    sim.latency(0, 200);
    int[] picks = sim.run(10_000, EVERY_2MS);
    // Its first slow answer arrives 200 ms (100 requests) later. Until then only its growing in-flight
    // count holds it back; from then on its peak cost does.
    int beforeFirstSlowAnswer = count(picks, 0, 100, 0);
    int justAfter = count(picks, 100, 200, 0);
    REPORT.info(String.format("after 5->200 ms: b0 got %d of the next 100 requests, %d of the 100 after; "
        + "later shares %.4f %.4f %.4f", beforeFirstSlowAnswer, justAfter,
        share(picks, 200, picks.length, 0), share(picks, 200, picks.length, 1), share(picks, 200, picks.length, 2)));
    assertThat(beforeFirstSlowAnswer).isLessThanOrEqualTo(80);
    assertThat(justAfter).isLessThanOrEqualTo(5);
    assertThat(share(picks, 200, picks.length, 0)).isLessThan(0.10);
    assertThat(share(picks, 200, picks.length, 1)).isGreaterThan(0.75);
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 42, 2024})
  void recoveredBackendWinsTrafficBack(long seed) {
    LatencySimulation sim = simulation(seed, 5, 40, 120);
    sim.run(5_000, EVERY_2MS);
    sim.latency(0, 200);
    sim.run(10_000, EVERY_2MS); // 20 s slow
    sim.latency(0, 5);
    int[] picks = sim.run(15_000, EVERY_2MS); // 30 s
    int backBy = firstWindowWithShare(picks, 0, 500, 0.95);
    REPORT.info(String.format("recovered: b0 has %.2f of the first 1000 requests, above 95%% of a 500-request "
        + "window after %d requests", share(picks, 0, 1_000, 0), backBy));
    // It wins traffic back at once (its answers are fast), and all of it as its old peak decays:
    // within twice the 10 s decay time.
    assertThat(share(picks, 0, 1_000, 0)).isGreaterThan(0.30);
    assertThat(backBy).isBetween(0, 10_000);
    assertThat(share(picks, 10_000, picks.length, 0)).isGreaterThanOrEqualTo(0.95);
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 42, 2024})
  void equalBackendsShareTrafficAndIdleOnesAreProbed(long seed) {
    LatencySimulation sim = simulation(seed, 10, 10, 10, 10, 10);
    int[] picks = sim.run(50_000, 1_000); // one request per ms, 50 s
    for (int b = 0; b < 5; b++) {
      double share = share(picks, 0, picks.length, b);
      assertThat(share).isBetween(0.10, 0.30);
    }
    assertThat(sim.extraProbes).isZero();
  }

  @Test
  void equalBackendsUnderSequentialRequestsAreAllUsed() {
    // One request at a time (each answered before the next): in-flight never differs, only the decay
    // of idle backends' costs moves traffic around.
    LatencySimulation sim = simulation(42, 10, 10, 10, 10, 10);
    int[] picks = sim.run(20_000, 20_000);
    for (int b = 0; b < 5; b++) {
      assertThat(share(picks, 0, picks.length, b)).isBetween(0.10, 0.30);
    }
  }

  @Test
  void anUnsampledBackendGetsOneProbeInFlight() {
    LatencySimulation sim = simulation(42, 10, 10, 100);
    sim.stats().of(sim.backends().get(0)).observe(10_000_000);
    sim.stats().of(sim.backends().get(1)).observe(10_000_000);
    // b2 is unknown: it is probed as soon as it is drawn, then left alone until the probe answers.
    int[] picks = sim.run(99, 1_000);
    assertThat(count(picks, 0, picks.length, 2)).isEqualTo(1);
    assertThat(sim.extraProbes).isZero();
    // Once its (slow) answer is in, it competes on cost like any other.
    assertThat(sim.stats().of(sim.backends().get(2)).hasSample()).isFalse();
    sim.run(2, 1_000);
    assertThat(sim.stats().of(sim.backends().get(2)).hasSample()).isTrue();
  }

  @Test
  void everyBackendIsProbedOnceAtStart() {
    LatencySimulation sim = simulation(42, 100, 100, 100);
    int[] picks = sim.run(3, 1_000);
    assertThat(Set.of(picks[0], picks[1], picks[2])).hasSize(3);
  }

  @Test
  void aHangingUnsampledBackendIsNotFloodedWithProbes() {
    Backend fast = new Backend("fast", "127.0.0.1", 9001, "r", 1);
    Backend unknown = new Backend("unknown", "127.0.0.1", 9002, "r", 1);
    long[] now = {0};
    GroupStats stats = new GroupStats(List.of(fast, unknown), () -> now[0], GroupStats.DEFAULT_DECAY_NANOS);
    stats.of(fast).observe(5_000_000);
    PeakEwmaSelector selector = new PeakEwmaSelector(List.of(fast, unknown), HealthView.ALL_AVAILABLE, stats,
        new SplittableRandom(1));
    int probes = 0;
    for (int i = 0; i < 1_000; i++) {
      Backend b = selector.select(new SelectionContext());
      if (b == unknown) {
        probes++;
      }
      stats.of(b).requestStarted(); // nothing ever finishes: the probe hangs
      now[0] += 1_000_000;
    }
    assertThat(probes).isEqualTo(1);
  }

  @Test
  void unavailableAndExcludedBackendsAreNeverPicked() {
    Backend a = new Backend("a", "127.0.0.1", 9001, "r", 1);
    Backend b = new Backend("b", "127.0.0.1", 9002, "r", 1);
    Backend c = new Backend("c", "127.0.0.1", 9003, "r", 1);
    GroupStats stats = new GroupStats(List.of(a, b, c), () -> 0, GroupStats.DEFAULT_DECAY_NANOS);
    stats.of(a).observe(1_000_000); // a is the fastest, but down
    stats.of(b).observe(9_000_000);
    stats.of(c).observe(9_000_000);
    PeakEwmaSelector selector = new PeakEwmaSelector(List.of(a, b, c), backend -> backend != a, stats,
        new SplittableRandom(7));
    Set<Backend> picked = new HashSet<>();
    for (int i = 0; i < 100; i++) {
      picked.add(selector.select(new SelectionContext().exclude(c)));
    }
    assertThat(picked).containsExactly(b);
    assertThat(selector.select(new SelectionContext().exclude(b).exclude(c))).isNull();
    assertThat(new PeakEwmaSelector(List.of(), HealthView.ALL_AVAILABLE, stats).select(new SelectionContext()))
        .isNull();
  }

  /** The index of the first window of {@code size} picks from which the backend's share stays >= min. */
  private static int firstWindowWithShare(int[] picks, int backend, int size, double min) {
    for (int from = 0; from + size <= picks.length; from += size) {
      if (share(picks, from, from + size, backend) >= min) {
        return from;
      }
    }
    return -1;
  }
}
