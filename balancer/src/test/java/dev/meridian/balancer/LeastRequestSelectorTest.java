package dev.meridian.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LeastRequestSelectorTest {
  private final Backend a = new Backend("a", "127.0.0.1", 9001, "r", 1);
  private final Backend b = new Backend("b", "127.0.0.1", 9002, "r", 1);
  private final Backend c = new Backend("c", "127.0.0.1", 9003, "r", 1);
  private final GroupStats stats = new GroupStats(List.of(a, b, c), () -> 0, GroupStats.DEFAULT_DECAY_NANOS);

  private void inFlight(Backend backend, int count) {
    for (int i = 0; i < count; i++) {
      stats.of(backend).requestStarted();
    }
  }

  @Test
  void ofTwoBackendsTheLessLoadedAlwaysWins() {
    inFlight(a, 10);
    inFlight(b, 3);
    LeastRequestSelector selector = new LeastRequestSelector(List.of(a, b), HealthView.ALL_AVAILABLE, stats,
        new SplittableRandom(3));
    for (int i = 0; i < 100; i++) {
      assertThat(selector.select(new SelectionContext())).isEqualTo(b);
    }
  }

  @Test
  void theIdleBackendGetsMostPicksAmongThree() {
    inFlight(a, 10);
    inFlight(b, 10);
    LeastRequestSelector selector = new LeastRequestSelector(List.of(a, b, c), HealthView.ALL_AVAILABLE, stats,
        new SplittableRandom(3));
    Map<Backend, Integer> counts = new HashMap<>();
    for (int i = 0; i < 3_000; i++) {
      counts.merge(selector.select(new SelectionContext()), 1, Integer::sum);
    }
    // c is one of the two candidates in 2/3 of the draws, and then always wins.
    assertThat(counts.get(c)).isBetween(1_850, 2_150);
  }

  @Test
  void loadEvensOutWhenThePickIsSent() {
    List<Backend> backends = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      backends.add(new Backend("b" + i, "127.0.0.1", 9000 + i, "r", 1));
    }
    GroupStats group = new GroupStats(backends, () -> 0, GroupStats.DEFAULT_DECAY_NANOS);
    LeastRequestSelector selector = new LeastRequestSelector(backends, HealthView.ALL_AVAILABLE, group,
        new SplittableRandom(5));
    for (int i = 0; i < 1_000; i++) {
      group.of(selector.select(new SelectionContext())).requestStarted(); // nothing finishes
    }
    for (Backend backend : backends) {
      assertThat(group.of(backend).inFlight()).isBetween(95, 105);
    }
  }

  @Test
  void weightScalesTheLoad() {
    Backend heavy = new Backend("heavy", "127.0.0.1", 9004, "r", 4);
    Backend light = new Backend("light", "127.0.0.1", 9005, "r", 1);
    GroupStats group = new GroupStats(List.of(heavy, light), () -> 0, GroupStats.DEFAULT_DECAY_NANOS);
    for (int i = 0; i < 3; i++) {
      group.of(heavy).requestStarted(); // (3 + 1) / 4 = 1 < (1 + 1) / 1
    }
    group.of(light).requestStarted();
    LeastRequestSelector selector = new LeastRequestSelector(List.of(heavy, light), HealthView.ALL_AVAILABLE,
        group, new SplittableRandom(1));
    assertThat(selector.select(new SelectionContext())).isEqualTo(heavy);
  }

  @Test
  void unavailableAndExcludedBackendsAreNeverPicked() {
    inFlight(b, 50);
    LeastRequestSelector selector = new LeastRequestSelector(List.of(a, b, c), backend -> backend != a, stats,
        new SplittableRandom(9));
    for (int i = 0; i < 100; i++) {
      assertThat(selector.select(new SelectionContext().exclude(c))).isEqualTo(b);
    }
    assertThat(selector.select(new SelectionContext().exclude(b).exclude(c))).isNull();
  }
}
