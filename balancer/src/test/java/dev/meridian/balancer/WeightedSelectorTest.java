package dev.meridian.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WeightedSelectorTest {
  private final Backend a = new Backend("a", "127.0.0.1", 9001, "r", 5);
  private final Backend b = new Backend("b", "127.0.0.1", 9002, "r", 1);
  private final Backend c = new Backend("c", "127.0.0.1", 9003, "r", 1);

  @Test
  void weightsFiveOneOneGiveNginxSmoothOrder() {
    WeightedSelector selector = new WeightedSelector(List.of(a, b, c), HealthView.ALL_AVAILABLE);
    StringBuilder order = new StringBuilder();
    for (int i = 0; i < 14; i++) {
      order.append(selector.select(new SelectionContext()).id());
    }
    assertThat(order).hasToString("aabacaa" + "aabacaa");
  }

  @Test
  void sharesAreExactOverEveryCycle() {
    List<Backend> backends = List.of(
        new Backend("w3", "127.0.0.1", 9001, "r", 3),
        new Backend("w7", "127.0.0.1", 9002, "r", 7),
        new Backend("w10", "127.0.0.1", 9003, "r", 10),
        new Backend("w1", "127.0.0.1", 9004, "r", 1));
    WeightedSelector selector = new WeightedSelector(backends, HealthView.ALL_AVAILABLE);
    for (int cycle = 0; cycle < 3; cycle++) {
      Map<String, Integer> counts = new HashMap<>();
      for (int i = 0; i < 21; i++) {
        counts.merge(selector.select(new SelectionContext()).id(), 1, Integer::sum);
      }
      assertThat(counts).containsExactlyInAnyOrderEntriesOf(Map.of("w3", 3, "w7", 7, "w10", 10, "w1", 1));
    }
  }

  @Test
  void equalWeightsReduceToPlainRoundRobin() {
    WeightedSelector selector = new WeightedSelector(List.of(
        new Backend("heavy", "127.0.0.1", 9001, "r", 2),
        new Backend("light", "127.0.0.1", 9002, "r", 2),
        new Backend("third", "127.0.0.1", 9003, "r", 2)), HealthView.ALL_AVAILABLE);
    // Equal weights reduce to a cycle of 3 (gcd), i.e. plain round robin.
    assertThat(selector.cycle()).containsExactly(0, 1, 2);
  }

  @Test
  void unavailableBackendsAreSkippedAndTheirShareSpreadByWeight() {
    Backend d = new Backend("d", "127.0.0.1", 9004, "r", 3);
    WeightedSelector selector = new WeightedSelector(List.of(a, b, c, d), backend -> backend != a);
    Map<Backend, Integer> counts = new HashMap<>();
    for (int i = 0; i < 10_000; i++) {
      counts.merge(selector.select(new SelectionContext()), 1, Integer::sum);
    }
    assertThat(counts).doesNotContainKey(a);
    // b : c : d = 1 : 1 : 3 (of 10 000: 2000, 2000, 6000), within a few percent.
    assertThat(counts.get(b)).isBetween(1_700, 2_300);
    assertThat(counts.get(c)).isBetween(1_700, 2_300);
    assertThat(counts.get(d)).isBetween(5_500, 6_500);
  }

  @Test
  void excludedBackendsAreNotPickedAndAllOutYieldsNull() {
    WeightedSelector selector = new WeightedSelector(List.of(a, b, c), HealthView.ALL_AVAILABLE);
    SelectionContext context = new SelectionContext().exclude(a).exclude(b);
    for (int i = 0; i < 20; i++) {
      assertThat(selector.select(context)).isEqualTo(c);
    }
    assertThat(selector.select(context.exclude(c))).isNull();
    assertThat(new WeightedSelector(List.of(), HealthView.ALL_AVAILABLE).select(new SelectionContext())).isNull();
  }

  @Test
  void hugeWeightsAreScaledToABoundedCycle() {
    WeightedSelector selector = new WeightedSelector(List.of(
        new Backend("x", "127.0.0.1", 9001, "r", 1_000_000),
        new Backend("y", "127.0.0.1", 9002, "r", 999_999)), HealthView.ALL_AVAILABLE);
    int[] cycle = selector.cycle();
    assertThat(cycle.length).isLessThanOrEqualTo(WeightedSelector.MAX_CYCLE + 2);
    long xs = java.util.Arrays.stream(cycle).filter(i -> i == 0).count();
    assertThat((double) xs / cycle.length).isBetween(0.49, 0.51);
  }
}
