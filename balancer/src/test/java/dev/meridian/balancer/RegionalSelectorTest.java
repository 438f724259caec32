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
  void panicRoutesAcrossAllWhenTooFewAreHealthy() {
    for (Backend b : backends) {
      if (!b.id().equals("ap-south-1") && !b.id().equals("ap-south-2")) {
        down.add(b.id());
      }
    }
    SelectionContext ctx = new SelectionContext().clientRegion("us-east").explain(true);
    RegionalSelector selector = selector(policy(Optional.empty()));
    List<String> transitions = new ArrayList<>();
    selector.onPanicChange((panic, healthy, total) -> transitions.add(panic + " " + healthy + "/" + total));
    Backend picked = selector.select(ctx);
    selector.select(ctx);
    assertThat(picked.region()).isEqualTo("us-east");
    assertThat(ctx.decision()).startsWith("panic");
    assertThat(selector.panicPicks()).isEqualTo(2);
    down.clear();
    selector.select(ctx);
    assertThat(transitions).containsExactly("true 2/12", "false 12/12");
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
