package dev.meridian.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RoundRobinSelectorTest {
  private final Backend a = new Backend("a", "127.0.0.1", 9001, "us-east", 1);
  private final Backend b = new Backend("b", "127.0.0.1", 9002, "eu-west", 1);
  private final Backend c = new Backend("c", "127.0.0.1", 9003, "ap-south", 1);

  @Test
  void everyBackendGetsExactlyOneTurnPerCycle() {
    RoundRobinSelector selector = new RoundRobinSelector(List.of(a, b, c), HealthView.ALL_AVAILABLE);
    Map<Backend, Integer> counts = new HashMap<>();
    for (int i = 0; i < 300; i++) {
      counts.merge(selector.select(new SelectionContext()), 1, Integer::sum);
    }
    assertThat(counts).containsEntry(a, 100).containsEntry(b, 100).containsEntry(c, 100);
  }

  @Test
  void aSecondPickForTheSameRequestDoesNotMoveTheTurn() {
    RoundRobinSelector selector = new RoundRobinSelector(List.of(a, b), HealthView.ALL_AVAILABLE);
    Map<Backend, Integer> firstPicks = new HashMap<>();
    for (int i = 0; i < 10; i++) {
      SelectionContext request = new SelectionContext();
      Backend first = selector.select(request);
      firstPicks.merge(first, 1, Integer::sum);
      Backend hedge = selector.select(request.exclude(first));
      assertThat(hedge).isNotEqualTo(first);
    }
    assertThat(firstPicks).as("first picks still take turns").containsEntry(a, 5).containsEntry(b, 5);
  }

  @Test
  void retriesComingFromAnotherRegionStillTakeTurns() {
    RoundRobinSelector selector = new RoundRobinSelector(List.of(b, c), HealthView.ALL_AVAILABLE);
    Map<Backend, Integer> picks = new HashMap<>();
    for (int i = 0; i < 10; i++) {
      picks.merge(selector.select(new SelectionContext().exclude(a)), 1, Integer::sum);
    }
    assertThat(picks).as("a, tried elsewhere, is not one of these").containsEntry(b, 5).containsEntry(c, 5);
  }

  @Test
  void unavailableBackendsAreSkipped() {
    RoundRobinSelector selector = new RoundRobinSelector(List.of(a, b, c), backend -> backend != b);
    Set<Backend> picked = new HashSet<>();
    for (int i = 0; i < 30; i++) {
      picked.add(selector.select(new SelectionContext()));
    }
    assertThat(picked).containsExactlyInAnyOrder(a, c);
  }

  @Test
  void excludedBackendsAreNotPickedAgain() {
    RoundRobinSelector selector = new RoundRobinSelector(List.of(a, b, c), HealthView.ALL_AVAILABLE);
    SelectionContext context = new SelectionContext().exclude(a).exclude(c);
    for (int i = 0; i < 10; i++) {
      assertThat(selector.select(context)).isEqualTo(b);
    }
    context.exclude(b);
    assertThat(selector.select(context)).isNull();
    context.reset();
    assertThat(selector.select(context)).isNotNull();
  }

  @Test
  void emptyOrAllDownGroupYieldsNull() {
    assertThat(new RoundRobinSelector(List.of(), HealthView.ALL_AVAILABLE).select(new SelectionContext())).isNull();
    assertThat(new RoundRobinSelector(List.of(a, b), backend -> false).select(new SelectionContext())).isNull();
  }

  @Test
  void unknownStrategyIsRefusedWithTheAcceptedNames() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> Strategies.create("fastest", List.of(a), HealthView.ALL_AVAILABLE))
        .hasMessageContaining("fastest").hasMessageContaining("round-robin");
  }
}
