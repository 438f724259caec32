package dev.meridian.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RegionalSelectorTest {
  private final List<Backend> backends = new ArrayList<>();
  private final Set<String> down = new HashSet<>();
  private final HealthView health = b -> !down.contains(b.id());
  private final AtomicLong now = new AtomicLong();
  private final NanoClock clock = now::get;
  private final Random random = new Random(42);

  RegionalSelectorTest() {
    for (String region : List.of("us-east", "eu-west", "ap-south")) {
      for (int i = 1; i <= 4; i++) {
        backends.add(new Backend(region + "-" + i, "127.0.0.1", 9000 + backends.size(), region, 1));
      }
    }
  }

  private static final Map<String, List<String>> FAILOVER = Map.of(
      "eu-west", List.of("eu-west", "us-east", "ap-south"),
      "us-east", List.of("us-east", "eu-west", "ap-south"),
      "default", List.of("us-east", "eu-west", "ap-south"));

  private RegionalSelector selector(RegionPolicy policy, GroupStats stats) {
    return new RegionalSelector(backends, health, stats, policy, RoundRobinSelector::new, random::nextDouble);
  }

  private RegionalSelector selector(RegionPolicy policy) {
    return selector(policy, new GroupStats(backends, clock, GroupStats.DEFAULT_DECAY_NANOS));
  }

  private static RegionPolicy policy(Optional<String> writer) {
    return new RegionPolicy(FAILOVER, 1.4, 0, writer, Optional.empty(), 0.5);
  }

  private Map<String, Integer> regionCounts(RegionalSelector selector, SelectionContext context, int n) {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < n; i++) {
      Backend b = selector.select(context);
      counts.merge(b == null ? "none" : b.region(), 1, Integer::sum);
    }
    return counts;
  }

  @Test
  void healthyPreferredRegionKeepsAllTraffic() {
    SelectionContext ctx = new SelectionContext().clientRegion("eu-west").explain(true);
    assertThat(regionCounts(selector(policy(Optional.empty())), ctx, 1000)).containsOnlyKeys("eu-west");
    assertThat(ctx.decision()).isEqualTo("geo eu-west");
  }

  @Test
  void unknownClientRegionUsesTheDefaultOrder() {
    SelectionContext ctx = new SelectionContext().clientRegion("sa-east");
    assertThat(regionCounts(selector(policy(Optional.empty())), ctx, 100)).containsOnlyKeys("us-east");
  }

  @Test
  void spillOverFollowsHealthyFractionTimesFactor() {
    down.addAll(List.of("eu-west-1", "eu-west-2"));
    // eu-west is half healthy: 0.5 x 1.4 = 70% stays, 30% spills to us-east.
    SelectionContext ctx = new SelectionContext().clientRegion("eu-west");
    Map<String, Integer> counts = regionCounts(selector(policy(Optional.empty())), ctx, 10_000);
    assertThat(counts.get("eu-west")).isBetween(6700, 7300);
    assertThat(counts.get("us-east")).isBetween(2700, 3300);
  }

  @Test
  void deadRegionFailsOverInOrderAndSaysWhy() {
    down.addAll(List.of("eu-west-1", "eu-west-2", "eu-west-3", "eu-west-4"));
    SelectionContext ctx = new SelectionContext().clientRegion("eu-west").explain(true);
    assertThat(regionCounts(selector(policy(Optional.empty())), ctx, 500)).containsOnlyKeys("us-east");
    assertThat(ctx.decision()).isEqualTo("failover eu-west->us-east: unhealthy");
  }

  @Test
  void dialToZeroDrainsARegionIntoTheNext() {
    RegionalSelector selector = selector(policy(Optional.empty()));
    selector.setDial("eu-west", 0);
    SelectionContext ctx = new SelectionContext().clientRegion("eu-west").explain(true);
    assertThat(regionCounts(selector, ctx, 500)).containsOnlyKeys("us-east");
    assertThat(ctx.decision()).isEqualTo("failover eu-west->us-east: dialled to 0");
    selector.setDial("eu-west", 50);
    Map<String, Integer> counts = regionCounts(selector, new SelectionContext().clientRegion("eu-west"), 10_000);
    assertThat(counts.get("eu-west")).isBetween(6700, 7300);
  }

  @Test
  void writesGoToTheWriterAndReadYourWritesPrefersIt() {
    RegionalSelector selector = selector(policy(Optional.of("us-east")));
    SelectionContext write = new SelectionContext().clientRegion("eu-west").write(true).explain(true);
    assertThat(regionCounts(selector, write, 200)).containsOnlyKeys("us-east");
    assertThat(write.decision()).isEqualTo("writer us-east");
    SelectionContext read = new SelectionContext().clientRegion("eu-west").readYourWrites(true).explain(true);
    assertThat(regionCounts(selector, read, 200)).containsOnlyKeys("us-east");
    assertThat(read.decision()).startsWith("read-your-writes");
    SelectionContext plainRead = new SelectionContext().clientRegion("eu-west");
    assertThat(regionCounts(selector, plainRead, 200)).containsOnlyKeys("eu-west");
  }

  @Test
  void writerWithoutHealthyBackendIsNotReplacedByAnotherRegion() {
    down.addAll(List.of("us-east-1", "us-east-2", "us-east-3", "us-east-4"));
    SelectionContext write = new SelectionContext().write(true).explain(true);
    assertThat(selector(policy(Optional.of("us-east"))).select(write)).isNull();
    assertThat(write.decision()).isEqualTo("writer us-east: no available backend");
  }

  @Test
  void residencyIsNeverViolatedUnderRandomHealth() {
    RegionalSelector selector = selector(policy(Optional.of("us-east")));
    Random chaos = new Random(7);
    Set<String> eu = Set.of("eu-west");
    int answered = 0;
    for (int i = 0; i < 100_000; i++) {
      if (i % 50 == 0) {
        down.clear();
        for (Backend b : backends) {
          if (chaos.nextInt(3) == 0) {
            down.add(b.id());
          }
        }
      }
      SelectionContext ctx = new SelectionContext().clientRegion(chaos.nextBoolean() ? "us-east" : "ap-south")
          .write(chaos.nextInt(4) == 0).readYourWrites(chaos.nextInt(4) == 0).allowedRegions(eu);
      Backend b = selector.select(ctx);
      if (b != null) {
        answered++;
        assertThat(b.region()).isEqualTo("eu-west");
        assertThat(health.isAvailable(b)).isTrue();
      }
    }
    assertThat(answered).isGreaterThan(10_000);
  }

  @Test
  void residencyWithNoHealthyAllowedRegionYieldsNothing() {
    down.addAll(List.of("eu-west-1", "eu-west-2", "eu-west-3", "eu-west-4"));
    SelectionContext ctx = new SelectionContext().allowedRegions(Set.of("eu-west")).explain(true);
    assertThat(selector(policy(Optional.empty())).select(ctx)).isNull();
    assertThat(ctx.decision()).contains("residency");
  }

  @Test
  void aHealthyFallbackRegionIsNeverBypassedForPanic() {
    // 2 of 12 backends healthy (17% of the group), but both in ap-south: 0.5 x 1.4 = 70% capacity along
    // the order, above the threshold, so ap-south takes the traffic and no dead backend gets any.
    for (Backend b : backends) {
      if (!b.id().equals("ap-south-1") && !b.id().equals("ap-south-2")) {
        down.add(b.id());
      }
    }
    SelectionContext ctx = new SelectionContext().clientRegion("us-east").explain(true);
    RegionalSelector selector = selector(policy(Optional.empty()));
    assertThat(regionCounts(selector, ctx, 200)).containsOnlyKeys("ap-south");
    assertThat(ctx.decision()).isEqualTo("failover us-east->ap-south: unhealthy");
    assertThat(selector.panicPicks()).isZero();
  }

  @Test
  void panicIgnoresHealthOnlyInsideTheFirstRegionOfTheOrderWithCapacity() {
    // One of 12 healthy, in ap-south: 0.25 x 1.4 = 35% capacity along the order, below 50%. Health is
    // ignored in ap-south, the first region that still has a healthy backend (as Envoy does).
    for (Backend b : backends) {
      if (!b.id().equals("ap-south-1")) {
        down.add(b.id());
      }
    }
    SelectionContext ctx = new SelectionContext().clientRegion("us-east").explain(true);
    RegionalSelector selector = selector(policy(Optional.empty()));
    List<String> transitions = new ArrayList<>();
    selector.onPanicChange((panic, region, capacity) ->
        transitions.add(panic + " " + region + " " + Math.round(capacity * 100)));
    assertThat(regionCounts(selector, ctx, 8)).containsOnlyKeys("ap-south");
    assertThat(ctx.decision()).isEqualTo(
        "panic: 35% capacity in the failover order (threshold 50%), ignoring health in ap-south");
    assertThat(selector.panicPicks()).isEqualTo(8);
    assertThat(selector.panicking()).containsExactly("ap-south");
    // A retry that excluded every ap-south backend finds nothing else with capacity.
    SelectionContext retry = new SelectionContext().clientRegion("us-east");
    backends.stream().filter(b -> b.region().equals("ap-south")).forEach(retry::exclude);
    assertThat(selector.select(retry)).isNull();
    down.clear();
    selector.select(ctx);
    assertThat(transitions).containsExactly("true ap-south 35", "false ap-south 100");
    assertThat(selector.panicking()).isEmpty();
  }

  @Test
  void panicNeverSendsRequestsToBackendsAnOperatorTookOut() {
    // ap-south-1 passes its checks; ap-south-2 and -3 fail theirs; ap-south-4 was drained by an
    // operator. Panic ignores the failed checks, not the drain.
    Set<String> operatorOut = Set.of("ap-south-4");
    HealthView view = new HealthView() {
      @Override
      public boolean isAvailable(Backend b) {
        return !down.contains(b.id());
      }

      @Override
      public boolean mayServeInPanic(Backend b) {
        return !operatorOut.contains(b.id());
      }
    };
    for (Backend b : backends) {
      if (!b.id().equals("ap-south-1")) {
        down.add(b.id());
      }
    }
    RegionalSelector selector = new RegionalSelector(backends, view,
        new GroupStats(backends, clock, GroupStats.DEFAULT_DECAY_NANOS), policy(Optional.empty()),
        RoundRobinSelector::new, random::nextDouble);
    Set<String> picked = new HashSet<>();
    for (int i = 0; i < 12; i++) {
      picked.add(selector.select(new SelectionContext().clientRegion("us-east")).id());
    }
    assertThat(selector.panicPicks()).isEqualTo(12);
    assertThat(picked).containsExactlyInAnyOrder("ap-south-1", "ap-south-2", "ap-south-3");
  }

  /**
   * A region that recovers while no request comes leaves panic when the state is read (the admin API,
   * the panic gauge), not only at the next request: an idle sidecar's panic alert must clear.
   */
  @Test
  void panicEndsWhenReadAfterHealthRecoveredWithoutARequest() {
    for (Backend b : backends) {
      if (!b.id().equals("ap-south-1")) {
        down.add(b.id());
      }
    }
    RegionalSelector selector = selector(policy(Optional.empty()));
    List<String> transitions = new ArrayList<>();
    selector.onPanicChange((panic, region, capacity) ->
        transitions.add(panic + " " + region + " " + Math.round(capacity * 100)));
    selector.select(new SelectionContext().clientRegion("us-east"));
    selector.select(new SelectionContext().clientRegion("eu-west").readYourWrites(true));
    assertThat(selector.panicking()).as("still down: still in panic").containsExactly("ap-south");
    assertThat(transitions).containsExactly("true ap-south 35", "true ap-south 35");

    down.clear();

    assertThat(selector.panicking()).isEmpty();
    assertThat(transitions).as("each class of client told once").containsExactly("true ap-south 35",
        "true ap-south 35", "false ap-south 100", "false ap-south 100");
    assertThat(selector.panicking()).isEmpty();
    assertThat(transitions).hasSize(4);
  }

  @Test
  void withNoCapacityAnywherePanicUsesTheFirstRegionNotDialledToZero() {
    backends.forEach(b -> down.add(b.id()));
    RegionalSelector selector = selector(policy(Optional.empty()));
    SelectionContext ctx = new SelectionContext().clientRegion("us-east").explain(true);
    assertThat(regionCounts(selector, ctx, 8)).containsOnlyKeys("us-east");
    // A retry that excluded every us-east backend goes on along the order.
    SelectionContext retry = new SelectionContext().clientRegion("us-east");
    backends.stream().filter(b -> b.region().equals("us-east")).forEach(retry::exclude);
    assertThat(selector.select(retry).region()).isEqualTo("eu-west");
    // A region dialled to 0 is left alone even in panic.
    selector.setDial("us-east", 0);
    assertThat(regionCounts(selector, new SelectionContext().clientRegion("us-east"), 8)).containsOnlyKeys("eu-west");
  }

  @Test
  void aRegionListedTwiceInAFailoverOrderCountsOnce() {
    RegionPolicy twice = new RegionPolicy(Map.of("eu-west", List.of("eu-west", "us-east", "ap-south", "eu-west")),
        1.4, 0, Optional.empty(), Optional.empty(), 0.5);
    down.addAll(List.of("eu-west-1", "eu-west-2", "eu-west-3", "eu-west-4"));
    assertThat(regionCounts(selector(twice), new SelectionContext().clientRegion("eu-west"), 50))
        .containsOnlyKeys("us-east");
  }

  static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> healthPerRegion() {
    List<org.junit.jupiter.params.provider.Arguments> out = new ArrayList<>();
    for (int eu : new int[] {0, 50, 100}) {
      for (int us : new int[] {0, 50, 100}) {
        for (int ap : new int[] {0, 50, 100}) {
          out.add(org.junit.jupiter.params.provider.Arguments.of(eu, us, ap));
        }
      }
    }
    return out.stream();
  }

  /**
   * Every combination of 0, 50 and 100% health in eu-west, us-east and ap-south (4 backends each),
   * for a client in eu-west (order eu-west, us-east, ap-south; spill-over 1.4, panic threshold 0.5).
   * Outside panic, each region's share is exactly Envoy's priority load and no pick is unhealthy;
   * panic happens exactly when the order's capacity is below the threshold, and then stays inside the
   * first region of the order with a healthy backend (eu-west when there is none).
   */
  @org.junit.jupiter.params.ParameterizedTest(name = "eu-west {0}%, us-east {1}%, ap-south {2}%")
  @org.junit.jupiter.params.provider.MethodSource("healthPerRegion")
  void panicAndSharesFollowTheFailoverOrder(int euPercent, int usPercent, int apPercent) {
    Map<String, Integer> percent = Map.of("eu-west", euPercent, "us-east", usPercent, "ap-south", apPercent);
    for (Backend b : backends) {
      int index = Integer.parseInt(b.id().substring(b.id().lastIndexOf('-') + 1));
      if (index > percent.get(b.region()) * 4 / 100) {
        down.add(b.id());
      }
    }
    int picks = 10_000;
    AtomicLong draw = new AtomicLong();
    // Evenly spaced draws: each region gets its share of the picks to within one.
    RegionalSelector selector = new RegionalSelector(backends, health,
        new GroupStats(backends, clock, GroupStats.DEFAULT_DECAY_NANOS), policy(Optional.empty()),
        RoundRobinSelector::new, () -> (draw.getAndIncrement() % picks + 0.5) / picks);
    SelectionContext ctx = new SelectionContext().clientRegion("eu-west");
    Map<String, Integer> counts = new HashMap<>();
    int unhealthy = 0;
    for (int i = 0; i < picks; i++) {
      Backend b = selector.select(ctx);
      counts.merge(b.region(), 1, Integer::sum);
      unhealthy += health.isAvailable(b) ? 0 : 1;
    }

    List<String> order = FAILOVER.get("eu-west");
    double total = order.stream().mapToDouble(r -> percent.get(r) / 100.0).sum();
    boolean panic = Math.min(1.0, total * 1.4) < 0.5;
    assertThat(!selector.panicking().isEmpty()).as("panic").isEqualTo(panic);
    if (panic) {
      // Health is ignored inside the first region of the order with any healthy backend, else eu-west.
      String inside = order.stream().filter(r -> percent.get(r) > 0).findFirst().orElse("eu-west");
      assertThat(counts).containsOnlyKeys(inside);
      assertThat(selector.panicPicks()).isEqualTo(picks);
      return;
    }
    assertThat(unhealthy).as("picks of unhealthy backends").isZero();
    assertThat(selector.panicPicks()).isZero();
    double remaining = 1.0;
    double[] load = new double[order.size()];
    double sum = 0;
    for (int k = 0; k < load.length; k++) {
      load[k] = Math.min(remaining, percent.get(order.get(k)) / 100.0 * 1.4);
      remaining -= load[k];
      sum += load[k];
    }
    for (int k = 0; k < load.length; k++) {
      long expected = Math.round(load[k] / sum * picks);
      assertThat((long) counts.getOrDefault(order.get(k), 0)).as(order.get(k) + " share")
          .isBetween(expected - 1, expected + 1);
    }
  }

  @Test
  void withoutFailoverTableClientThenLocalThenByLatency() {
    GroupStats stats = new GroupStats(backends, clock, GroupStats.DEFAULT_DECAY_NANOS);
    backends.stream().filter(b -> b.region().equals("ap-south")).forEach(b -> stats.of(b).observe(5_000_000));
    backends.stream().filter(b -> b.region().equals("eu-west")).forEach(b -> stats.of(b).observe(80_000_000));
    RegionPolicy noTable = new RegionPolicy(Map.of(), 1.4, 0, Optional.empty(), Optional.of("us-east"), 0.5);
    RegionalSelector selector = selector(noTable, stats);
    assertThat(regionCounts(selector, new SelectionContext().clientRegion("eu-west"), 50)).containsOnlyKeys("eu-west");
    assertThat(regionCounts(selector, new SelectionContext(), 50)).containsOnlyKeys("us-east");
    down.addAll(List.of("us-east-1", "us-east-2", "us-east-3", "us-east-4"));
    // us-east (local) is gone: the faster of the rest, ap-south, takes over.
    assertThat(regionCounts(selector, new SelectionContext(), 50)).containsOnlyKeys("ap-south");
  }

  @Test
  void latencyMarginLeavesASlowPreferredRegionWithHysteresis() {
    GroupStats stats = new GroupStats(backends, clock, 1_000_000_000L);
    RegionPolicy margin = new RegionPolicy(FAILOVER, 1.4, 50_000_000L, Optional.empty(), Optional.empty(), 0.5);
    RegionalSelector selector = selector(margin, stats);
    SelectionContext ctx = new SelectionContext().clientRegion("eu-west").explain(true);
    observe(stats, "eu-west", 40_000_000);
    observe(stats, "us-east", 10_000_000);
    assertThat(regionCounts(selector, ctx, 20)).containsOnlyKeys("eu-west");
    observe(stats, "eu-west", 200_000_000);
    assertThat(regionCounts(selector, ctx, 20)).containsOnlyKeys("us-east");
    assertThat(ctx.decision()).isEqualTo("failover eu-west->us-east: latency");
    // The gap shrinks to 40ms: inside the margin but above half of it, so no flapping back yet.
    now.addAndGet(10_000_000_000L);
    observe(stats, "eu-west", 50_000_000);
    observe(stats, "us-east", 10_000_000);
    assertThat(regionCounts(selector, ctx, 20)).containsOnlyKeys("us-east");
    now.addAndGet(10_000_000_000L);
    observe(stats, "eu-west", 15_000_000);
    observe(stats, "us-east", 10_000_000);
    assertThat(regionCounts(selector, ctx, 20)).containsOnlyKeys("eu-west");
  }

  private void observe(GroupStats stats, String region, long rttNanos) {
    backends.stream().filter(b -> b.region().equals(region)).forEach(b -> stats.of(b).observe(rttNanos));
  }
}
