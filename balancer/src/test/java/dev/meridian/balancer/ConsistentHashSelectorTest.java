package dev.meridian.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meridian.balancer.ConsistentHashSelector.Algorithm;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

class ConsistentHashSelectorTest {
  private static final org.slf4j.Logger REPORT = org.slf4j.LoggerFactory.getLogger(ConsistentHashSelectorTest.class);

  private static final int KEYS = 100_000;

  private static List<Backend> backends(int n) {
    List<Backend> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new Backend("app-" + i, "10.0.0." + (i + 1), 8080, "r", 1));
    }
    return out;
  }

  private static ConsistentHashSelector selector(List<Backend> backends, Algorithm algorithm, HealthView health,
      GroupStats stats, double boundedLoad) {
    return new ConsistentHashSelector(backends, health, stats, algorithm, boundedLoad, new SplittableRandom(1));
  }

  private static ConsistentHashSelector selector(List<Backend> backends, Algorithm algorithm) {
    return selector(backends, algorithm, HealthView.ALL_AVAILABLE, new GroupStats(backends),
        ConsistentHashSelector.DEFAULT_BOUNDED_LOAD);
  }

  /** The backend each of the keys 0..KEYS-1 goes to. */
  private static Backend[] assign(BackendSelector selector) {
    Backend[] out = new Backend[KEYS];
    SelectionContext context = new SelectionContext();
    for (int k = 0; k < KEYS; k++) {
      context.reset();
      out[k] = selector.select(context.hashKey(k));
    }
    return out;
  }

  private static double movedFraction(Backend[] before, Backend[] after) {
    int moved = 0;
    for (int k = 0; k < KEYS; k++) {
      if (!before[k].equals(after[k])) {
        moved++;
      }
    }
    return (double) moved / KEYS;
  }

  @ParameterizedTest
  @EnumSource(Algorithm.class)
  void theSameKeyGoesToTheSameBackendAndKeysSpreadEvenly(Algorithm algorithm) {
    List<Backend> backends = backends(10);
    Backend[] first = assign(selector(backends, algorithm));
    Backend[] again = assign(selector(backends, algorithm)); // another instance, same membership
    assertThat(movedFraction(first, again)).isZero();
    Map<Backend, Integer> counts = new HashMap<>();
    for (Backend b : first) {
      counts.merge(b, 1, Integer::sum);
    }
    assertThat(counts).hasSize(10);
    counts.values().forEach(c -> assertThat(c).isBetween(KEYS / 10 * 7 / 10, KEYS / 10 * 13 / 10));
  }

  @ParameterizedTest
  @EnumSource(Algorithm.class)
  void addingOneBackendToTenMovesAboutOneEleventhOfTheKeys(Algorithm algorithm) {
    List<Backend> ten = backends(10);
    List<Backend> eleven = backends(11);
    Backend newcomer = eleven.get(10);
    Backend[] before = assign(selector(ten, algorithm));
    Backend[] after = assign(selector(eleven, algorithm));
    double moved = movedFraction(before, after);
    int toNewcomer = 0;
    for (int k = 0; k < KEYS; k++) {
      if (!before[k].equals(after[k]) && after[k].equals(newcomer)) {
        toNewcomer++;
      }
    }
    REPORT.info(String.format("%s: 10 -> 11 backends moved %.4f of keys, %.4f of the moves to the new one",
        algorithm, moved, toNewcomer / (moved * KEYS)));
    assertThat(moved).isBetween(0.06, 0.13);
    // Almost every moved key goes to the newcomer (the ring exactly; Maglev nearly).
    assertThat(toNewcomer / (moved * KEYS)).isGreaterThan(0.85);
  }

  @ParameterizedTest
  @EnumSource(Algorithm.class)
  void removingOneBackendOfElevenMovesOnlyAboutItsKeys(Algorithm algorithm) {
    List<Backend> eleven = backends(11);
    Backend leaving = eleven.get(4);
    List<Backend> ten = new ArrayList<>(eleven);
    ten.remove(leaving);
    Backend[] before = assign(selector(eleven, algorithm));
    Backend[] after = assign(selector(ten, algorithm));
    double moved = movedFraction(before, after);
    REPORT.info(String.format("%s: 11 -> 10 backends moved %.4f of keys", algorithm, moved));
    assertThat(moved).isBetween(0.06, 0.13);
  }

  @ParameterizedTest
  @EnumSource(Algorithm.class)
  void anUnavailableBackendsKeysMoveAndNoOtherKeyDoes(Algorithm algorithm) {
    List<Backend> backends = backends(10);
    Backend down = backends.get(3);
    Backend[] before = assign(selector(backends, algorithm));
    Backend[] during = assign(selector(backends, algorithm, b -> !b.equals(down), new GroupStats(backends),
        ConsistentHashSelector.DEFAULT_BOUNDED_LOAD));
    Set<Backend> heirs = new HashSet<>();
    for (int k = 0; k < KEYS; k++) {
      if (before[k].equals(down)) {
        assertThat(during[k]).isNotEqualTo(down);
        heirs.add(during[k]);
      } else {
        assertThat(during[k]).isEqualTo(before[k]);
      }
    }
    assertThat(heirs).hasSizeGreaterThanOrEqualTo(5); // its keys spread, not all onto one neighbour
  }

  @ParameterizedTest
  @EnumSource(Algorithm.class)
  void boundedLoadDivertsKeysFromAnOverloadedBackend(Algorithm algorithm) {
    List<Backend> backends = backends(10);
    GroupStats stats = new GroupStats(backends, () -> 0, GroupStats.DEFAULT_DECAY_NANOS);
    ConsistentHashSelector bounded = selector(backends, algorithm, HealthView.ALL_AVAILABLE, stats, 1.25);
    ConsistentHashSelector unbounded =
        selector(backends, algorithm, HealthView.ALL_AVAILABLE, stats, Double.POSITIVE_INFINITY);
    long key = 12345;
    Backend home = bounded.select(new SelectionContext().hashKey(key));
    for (int i = 0; i < 5; i++) {
      stats.of(home).requestStarted(); // 5 in flight, all others idle: capacity ceil(1.25 * 6 / 10) = 1
    }
    Backend diverted = bounded.select(new SelectionContext().hashKey(key));
    assertThat(diverted).isNotEqualTo(home);
    assertThat(bounded.select(new SelectionContext().hashKey(key))).isEqualTo(diverted); // consistently
    assertThat(unbounded.select(new SelectionContext().hashKey(key))).isEqualTo(home);
    // When load is even, nobody is over the bound and the key goes home.
    for (Backend b : backends) {
      if (!b.equals(home)) {
        for (int i = 0; i < 5; i++) {
          stats.of(b).requestStarted();
        }
      }
    }
    assertThat(bounded.select(new SelectionContext().hashKey(key))).isEqualTo(home);
  }

  @Test
  void boundedLoadKeepsEveryBackendNearTheAverageUnderSkewedKeys() {
    List<Backend> backends = backends(10);
    GroupStats stats = new GroupStats(backends, () -> 0, GroupStats.DEFAULT_DECAY_NANOS);
    ConsistentHashSelector selector = selector(backends, Algorithm.MAGLEV, HealthView.ALL_AVAILABLE, stats, 1.25);
    // 1000 requests in flight, 90% of them for one hot key.
    for (int i = 0; i < 1_000; i++) {
      long key = i % 10 == 0 ? i : 7;
      stats.of(selector.select(new SelectionContext().hashKey(key))).requestStarted();
    }
    for (Backend b : backends) {
      assertThat(stats.of(b).inFlight()).isLessThanOrEqualTo((int) Math.ceil(1.25 * 1_000 / 10) + 1);
    }
  }

  @Test
  void weightsSetTheShareOfKeys() {
    List<Backend> backends = List.of(new Backend("big", "10.0.0.1", 80, "r", 3),
        new Backend("small", "10.0.0.2", 80, "r", 1));
    for (Algorithm algorithm : Algorithm.values()) {
      Backend[] assigned = assign(selector(backends, algorithm));
      long big = java.util.Arrays.stream(assigned).filter(b -> b.id().equals("big")).count();
      assertThat((double) big / KEYS).as(algorithm.name()).isBetween(0.70, 0.80);
    }
  }

  @Test
  void aRequestWithoutAHashKeyIsBalancedOnInFlight() {
    List<Backend> backends = backends(2);
    GroupStats stats = new GroupStats(backends, () -> 0, GroupStats.DEFAULT_DECAY_NANOS);
    stats.of(backends.get(0)).requestStarted();
    ConsistentHashSelector selector =
        selector(backends, Algorithm.MAGLEV, HealthView.ALL_AVAILABLE, stats, 1.25);
    assertThat(selector.select(new SelectionContext())).isEqualTo(backends.get(1));
  }

  @Test
  void allOutYieldsNullAndBadSettingsAreRefused() {
    List<Backend> backends = backends(3);
    assertThat(selector(backends, Algorithm.RING, b -> false, new GroupStats(backends), 1.25)
        .select(new SelectionContext().hashKey(1))).isNull();
    assertThat(selector(List.of(), Algorithm.MAGLEV).select(new SelectionContext().hashKey(1))).isNull();
    assertThatThrownBy(() -> new ConsistentHashSelector(backends, HealthView.ALL_AVAILABLE, new GroupStats(backends),
        Algorithm.MAGLEV, 1.25, null, 65536, 160)).hasMessageContaining("expected: a prime");
    assertThatThrownBy(() -> selector(backends, Algorithm.MAGLEV, HealthView.ALL_AVAILABLE,
        new GroupStats(backends), 0.5)).hasMessageContaining("expected: >= 1");
    assertThatThrownBy(() -> Algorithm.of("jump")).hasMessageContaining("maglev or ring");
  }
}
