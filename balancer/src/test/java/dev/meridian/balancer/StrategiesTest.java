package dev.meridian.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class StrategiesTest {
  private final List<Backend> backends = backends(100);
  private final GroupStats stats = new GroupStats(backends);

  private static List<Backend> backends(int n) {
    List<Backend> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new Backend("b" + i, "127.0.0.1", 9000 + i, "r", 1 + i % 3));
    }
    return out;
  }

  static List<String> names() {
    return List.copyOf(Strategies.NAMES);
  }

  @Test
  void namesAreTheFiveStrategiesInDocumentationOrder() {
    assertThat(Strategies.NAMES)
        .containsExactly("round-robin", "weighted", "least-request", "peak-ewma", "consistent-hash");
  }

  @Test
  void eachNameBuildsItsSelector() {
    StrategyOptions options = StrategyOptions.DEFAULTS.withRandom(new SplittableRandom(1));
    assertThat(Strategies.create("round-robin", backends, HealthView.ALL_AVAILABLE, stats, options))
        .isInstanceOf(RoundRobinSelector.class);
    assertThat(Strategies.create("weighted", backends, HealthView.ALL_AVAILABLE, stats, options))
        .isInstanceOf(WeightedSelector.class);
    assertThat(Strategies.create("least-request", backends, HealthView.ALL_AVAILABLE, stats, options))
        .isInstanceOf(LeastRequestSelector.class);
    assertThat(Strategies.create("peak-ewma", backends, HealthView.ALL_AVAILABLE, stats, options))
        .isInstanceOf(PeakEwmaSelector.class);
    assertThat(Strategies.create("consistent-hash", backends, HealthView.ALL_AVAILABLE, stats,
        options.withHashing("ring"))).isInstanceOf(ConsistentHashSelector.class);
  }

  @ParameterizedTest
  @MethodSource("names")
  void theThreeArgumentFormStillWorks(String name) {
    BackendSelector selector = Strategies.create(name, backends, HealthView.ALL_AVAILABLE);
    assertThat(selector.select(new SelectionContext().hashKey(42))).isIn(backends);
  }

  @ParameterizedTest
  @MethodSource("names")
  void theFactoryBuildsOverASubsetWithTheGroupsStats(String name) {
    BackendSelector selector = Strategies.factory(name, stats, StrategyOptions.DEFAULTS)
        .apply(backends.subList(0, 10), HealthView.ALL_AVAILABLE);
    assertThat(selector.select(new SelectionContext().hashKey(7))).isIn(backends.subList(0, 10));
  }

  @Test
  void unknownNamesAndBadOptionsAreRefused() {
    assertThatThrownBy(() -> Strategies.create("fastest", backends, HealthView.ALL_AVAILABLE, stats,
        StrategyOptions.DEFAULTS)).hasMessageContaining("'fastest'").hasMessageContaining("peak-ewma");
    assertThatThrownBy(() -> Strategies.factory("fastest", stats, StrategyOptions.DEFAULTS))
        .hasMessageContaining("consistent-hash");
    assertThatThrownBy(() -> StrategyOptions.DEFAULTS.withHashing("rendezvous")).hasMessageContaining("maglev or ring");
    assertThatThrownBy(() -> StrategyOptions.DEFAULTS.withBoundedLoad(0.9)).hasMessageContaining(">= 1");
    assertThatThrownBy(() -> Strategies.create("peak-ewma", backends, HealthView.ALL_AVAILABLE,
        new GroupStats(backends.subList(0, 1)), StrategyOptions.DEFAULTS)).hasMessageContaining("has no stats");
  }

  @ParameterizedTest
  @MethodSource("names")
  void aPickAllocatesNothing(String name) {
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    for (int i = 0; i < 10; i++) {
      stats.of(backends.get(i)).observe(1_000_000L * (i + 1));
      stats.of(backends.get(i)).requestStarted();
    }
    HealthView health = b -> !b.id().equals("b3");
    BackendSelector selector = Strategies.create(name, backends, health, stats, StrategyOptions.DEFAULTS);
    SelectionContext context = new SelectionContext();
    long sink = 0;
    for (int i = 0; i < 20_000; i++) {
      context.reset();
      sink += selector.select(context.hashKey(i).exclude(backends.get(5))).port();
    }
    long tid = Thread.currentThread().getId();
    long before = threads.getThreadAllocatedBytes(tid);
    for (int i = 0; i < 100_000; i++) {
      context.reset();
      sink += selector.select(context.hashKey(i).exclude(backends.get(5))).port();
    }
    long allocated = threads.getThreadAllocatedBytes(tid) - before;
    assertThat(sink).isPositive();
    assertThat(allocated).as("bytes allocated by 100 000 picks").isLessThan(1_000);
  }
}
