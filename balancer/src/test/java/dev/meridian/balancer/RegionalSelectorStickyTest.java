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

class RegionalSelectorStickyTest {
  /** Failover orders: from eu-west the next region is ap, although us-east clients go to eu-west next. */
  private static final Map<String, List<String>> FAILOVER = Map.of(
      "us-east", List.of("us-east", "eu-west", "ap"),
      "eu-west", List.of("eu-west", "ap", "us-east"),
      "ap", List.of("ap", "us-east", "eu-west"),
      "default", List.of("us-east", "eu-west", "ap"));

  private final Backend u1 = backend("u1", "us-east");
  private final Backend u2 = backend("u2", "us-east");
  private final Backend e1 = backend("e1", "eu-west");
  private final Backend e2 = backend("e2", "eu-west");
  private final Backend a1 = backend("a1", "ap");
  private final List<Backend> backends = List.of(u1, u2, e1, e2, a1);
  private final ControlledHealth health = new ControlledHealth();
  private final AtomicLong now = new AtomicLong();
  private final GroupStats stats = new GroupStats(backends, now::get, GroupStats.DEFAULT_DECAY_NANOS);
  private final Random random = new Random(42);

  /** Down backends take nothing; draining ones take only the sessions pinned to them. */
  private static final class ControlledHealth implements HealthView {
    final Set<String> down = new HashSet<>();
    final Set<String> draining = new HashSet<>();

    @Override
    public boolean isAvailable(Backend backend) {
      return !down.contains(backend.id()) && !draining.contains(backend.id());
    }

    @Override
    public boolean isAvailableToPinned(Backend backend) {
      return !down.contains(backend.id());
    }
  }

  private static Backend backend(String id, String region) {
    return new Backend(id, "127.0.0.1", 9000 + Math.abs(id.hashCode() % 1000), region, 1);
  }

  private RegionalSelector selector(Optional<String> writer) {
    RegionPolicy policy = new RegionPolicy(FAILOVER, 1.4, 0, writer, Optional.empty(), 0.5);
    return new RegionalSelector(backends, health, stats, policy,
        Strategies.factory("round-robin", stats, StrategyOptions.DEFAULTS), random::nextDouble);
  }

  private RegionalSelector selector() {
    return selector(Optional.empty());
  }

  private static Map<String, Integer> picks(RegionalSelector selector, SelectionContext context, int n) {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < n; i++) {
      Backend b = selector.select(context);
      counts.merge(b == null ? "none" : b.id(), 1, Integer::sum);
    }
    return counts;
  }

  @Test
  void aUsablePinnedBackendTakesEveryPick() {
    RegionalSelector selector = selector();
    SelectionContext context = new SelectionContext().clientRegion("us-east").pin(e1, false).explain(true);

    assertThat(picks(selector, context, 1000)).containsExactly(Map.entry("e1", 1000));
    assertThat(context.pinOutcome()).isEqualTo(StickyPin.Outcome.HONOURED);
    assertThat(context.pinReason()).isNull();
    assertThat(context.decision()).isEqualTo("sticky e1");
  }

  @Test
  void withoutAPinPicksSpreadOverTheClientsRegion() {
    SelectionContext context = new SelectionContext().clientRegion("us-east");

    assertThat(picks(selector(), context, 1000)).containsOnly(Map.entry("u1", 500), Map.entry("u2", 500));
    assertThat(context.pinOutcome()).isEqualTo(StickyPin.Outcome.NONE);
    assertThat(context.pinReason()).isNull();
  }

  @Test
  void aDownPinnedBackendMovesToAnotherBackendOfItsRegionNotTheClients() {
    health.down.add("e1");
    RegionalSelector selector = selector();
    SelectionContext context = new SelectionContext().clientRegion("us-east").pin(e1, false).explain(true);

    assertThat(picks(selector, context, 100)).containsExactly(Map.entry("e2", 100));
    assertThat(context.pinOutcome()).isEqualTo(StickyPin.Outcome.REPINNED);
    assertThat(context.pinReason()).isEqualTo(StickyPin.Reason.UNAVAILABLE);
    assertThat(context.decision()).isEqualTo("region eu-west");
    assertThat(context.orderRegion()).isEqualTo("eu-west");
  }

  @Test
  void aDownPinnedRegionMovesAlongTheFailoverOrderOfThePinnedRegion() {
    health.down.addAll(List.of("e1", "e2"));
    RegionalSelector selector = selector();
    SelectionContext context = new SelectionContext().clientRegion("us-east").pin(e1, false).explain(true);

    // From eu-west the order is eu-west, ap, us-east; the client's own would be us-east first.
    assertThat(picks(selector, context, 100)).containsExactly(Map.entry("a1", 100));
    assertThat(context.pinOutcome()).isEqualTo(StickyPin.Outcome.REPINNED);
    assertThat(context.pinReason()).isEqualTo(StickyPin.Reason.UNAVAILABLE);
    assertThat(context.decision()).isEqualTo("failover eu-west->ap: unhealthy");
    assertThat(selector.panicPicks()).isZero();

    SelectionContext unpinned = new SelectionContext().clientRegion("us-east");
    assertThat(picks(selector, unpinned, 100)).containsOnlyKeys("u1", "u2");
  }

  @Test
  void aStrictPinThatCannotBeHonouredFindsNothing() {
    health.down.add("e1");
    RegionalSelector selector = selector();
    SelectionContext context = new SelectionContext().clientRegion("us-east").pin(e1, true).explain(true);

    assertThat(selector.select(context)).isNull();
    assertThat(context.pinOutcome()).isEqualTo(StickyPin.Outcome.REFUSED);
    assertThat(context.pinReason()).isEqualTo(StickyPin.Reason.UNAVAILABLE);
    assertThat(context.decision()).isEqualTo("sticky e1: unavailable, strict");
    assertThat(context.isPinStrict()).isTrue();

    health.down.clear();
    assertThat(selector.select(context)).isSameAs(e1);
    assertThat(context.pinOutcome()).isEqualTo(StickyPin.Outcome.HONOURED);
    assertThat(context.pinReason()).isNull();
  }

  @Test
  void aPinnedBackendThatFailedInThisRequestIsLeftForAnotherOfItsRegion() {
    RegionalSelector selector = selector();
    SelectionContext context = new SelectionContext().clientRegion("us-east").pin(e1, false);
    assertThat(selector.select(context)).isSameAs(e1);

    context.exclude(e1);
    assertThat(picks(selector, context, 10)).containsExactly(Map.entry("e2", 10));
    assertThat(context.pinOutcome()).isEqualTo(StickyPin.Outcome.REPINNED);
    assertThat(context.pinReason()).isEqualTo(StickyPin.Reason.FAILED);

    SelectionContext strict = new SelectionContext().clientRegion("us-east").pin(e1, true).exclude(e1);
    assertThat(selector.select(strict)).isNull();
    assertThat(strict.pinOutcome()).isEqualTo(StickyPin.Outcome.REFUSED);
    assertThat(strict.pinReason()).isEqualTo(StickyPin.Reason.FAILED);
  }

  @Test
  void aBackendAvoidedByTheRetryFilterCountsAsFailed() {
    SelectionContext context = new SelectionContext().clientRegion("us-east").pin(u1, false)
        .avoid(b -> b.id().equals("u1"));
    assertThat(picks(selector(), context, 10)).containsExactly(Map.entry("u2", 10));
    assertThat(context.pinReason()).isEqualTo(StickyPin.Reason.FAILED);
  }

  @Test
  void aPinInARegionDialledToZeroMovesAlongItsFailoverOrder() {
    RegionalSelector selector = selector();
    selector.setDial("eu-west", 0);
    SelectionContext context = new SelectionContext().clientRegion("us-east").pin(e1, false).explain(true);

    assertThat(picks(selector, context, 50)).containsExactly(Map.entry("a1", 50));
    assertThat(context.pinOutcome()).isEqualTo(StickyPin.Outcome.REPINNED);
    assertThat(context.pinReason()).isEqualTo(StickyPin.Reason.DIALLED_OUT);
    assertThat(context.decision()).isEqualTo("failover eu-west->ap: dialled to 0");

    selector.setDial("eu-west", 1);
    SelectionContext back = new SelectionContext().clientRegion("us-east").pin(e1, false);
    assertThat(selector.select(back)).isSameAs(e1);
    assertThat(back.pinOutcome()).isEqualTo(StickyPin.Outcome.HONOURED);
  }

  @Test
  void aDrainingBackendKeepsItsSessionsButTakesNoNewOnes() {
    health.draining.add("e1");
    RegionalSelector selector = selector();
    SelectionContext pinned = new SelectionContext().clientRegion("eu-west").pin(e1, false);

    assertThat(picks(selector, pinned, 1000)).containsExactly(Map.entry("e1", 1000));
    assertThat(pinned.pinOutcome()).isEqualTo(StickyPin.Outcome.HONOURED);

    SelectionContext unpinned = new SelectionContext().clientRegion("eu-west");
    // eu-west is half available for new picks: 0.5 x 1.4 = 70% stays there, 30% spills to ap.
    assertThat(picks(selector, unpinned, 1000)).doesNotContainKey("e1").containsOnlyKeys("e2", "a1");
    SelectionContext pinnedElsewhere = new SelectionContext().clientRegion("eu-west").pin(e2, false);
    health.down.add("e2");
    assertThat(picks(selector, pinnedElsewhere, 100)).doesNotContainKey("e1").containsOnlyKeys("a1");
    assertThat(pinnedElsewhere.pinReason()).isEqualTo(StickyPin.Reason.UNAVAILABLE);
  }

  @Test
  void aPinOutsideTheAllowedRegionsMovesInsideThem() {
    RegionalSelector selector = selector();
    Set<String> allowed = Set.of("us-east", "ap");
    SelectionContext context = new SelectionContext().clientRegion("eu-west").allowedRegions(allowed).pin(e1, false);

    Map<String, Integer> picked = picks(selector, context, 200);
    assertThat(picked).doesNotContainKeys("e1", "e2", "none");
    // The client's order eu-west, ap, us-east without eu-west: ap first.
    assertThat(picked).containsExactly(Map.entry("a1", 200));
    assertThat(context.pinOutcome()).isEqualTo(StickyPin.Outcome.REPINNED);
    assertThat(context.pinReason()).isEqualTo(StickyPin.Reason.RESIDENCY);

    SelectionContext strict = new SelectionContext().clientRegion("eu-west").allowedRegions(allowed).pin(e1, true);
    assertThat(selector.select(strict)).isNull();
    assertThat(strict.pinOutcome()).isEqualTo(StickyPin.Outcome.REFUSED);
    assertThat(strict.pinReason()).isEqualTo(StickyPin.Reason.RESIDENCY);

    SelectionContext inside = new SelectionContext().clientRegion("eu-west").allowedRegions(allowed).pin(u2, false);
    assertThat(selector.select(inside)).isSameAs(u2);
    assertThat(inside.pinOutcome()).isEqualTo(StickyPin.Outcome.HONOURED);
  }

  @Test
  void aWriteGoesToTheWriterRegionOverAPinElsewhere() {
    RegionalSelector selector = selector(Optional.of("us-east"));
    SelectionContext write = new SelectionContext().clientRegion("eu-west").write(true).pin(e1, true).explain(true);

    assertThat(picks(selector, write, 100)).containsOnly(Map.entry("u1", 50), Map.entry("u2", 50));
    assertThat(write.pinOutcome()).isEqualTo(StickyPin.Outcome.OVERRIDDEN);
    assertThat(write.pinReason()).isEqualTo(StickyPin.Reason.WRITER);
    assertThat(write.decision()).isEqualTo("writer us-east");
    assertThat(write.pinned()).as("the pin stands for the next request").isSameAs(e1);

    SelectionContext read = new SelectionContext().clientRegion("eu-west").pin(e1, false);
    assertThat(selector.select(read)).isSameAs(e1);
    assertThat(read.pinOutcome()).isEqualTo(StickyPin.Outcome.HONOURED);
  }

  @Test
  void aWriteHonoursAPinInsideTheWriterRegion() {
    RegionalSelector selector = selector(Optional.of("us-east"));
    SelectionContext write = new SelectionContext().clientRegion("eu-west").write(true).pin(u2, false);

    assertThat(picks(selector, write, 100)).containsExactly(Map.entry("u2", 100));
    assertThat(write.pinOutcome()).isEqualTo(StickyPin.Outcome.HONOURED);

    health.down.add("u2");
    assertThat(picks(selector, write, 10)).containsExactly(Map.entry("u1", 10));
    assertThat(write.pinOutcome()).isEqualTo(StickyPin.Outcome.REPINNED);
    assertThat(write.pinReason()).isEqualTo(StickyPin.Reason.UNAVAILABLE);

    health.down.add("u1");
    assertThat(selector.select(write)).as("a write never leaves the writer region").isNull();
  }

  @Test
  void aReadInAReadYourWritesWindowGoesToTheWriterRegionOverAPinElsewhere() {
    RegionalSelector selector = selector(Optional.of("us-east"));
    SelectionContext read = new SelectionContext().clientRegion("eu-west").readYourWrites(true).pin(e1, false);

    assertThat(picks(selector, read, 100)).containsOnlyKeys("u1", "u2");
    assertThat(read.pinOutcome()).isEqualTo(StickyPin.Outcome.OVERRIDDEN);
    assertThat(read.pinReason()).isEqualTo(StickyPin.Reason.READ_YOUR_WRITES);

    SelectionContext inWriter = new SelectionContext().clientRegion("eu-west").readYourWrites(true).pin(u1, false);
    assertThat(selector.select(inWriter)).isSameAs(u1);
    assertThat(inWriter.pinOutcome()).isEqualTo(StickyPin.Outcome.HONOURED);
  }

  @Test
  void aPinnedBackendNoLongerInTheGroupMovesFromTheRegionTheProxyNames() {
    RegionalSelector selector = selector();
    Backend removed = backend("e9", "eu-west");
    SelectionContext context = new SelectionContext().clientRegion("us-east").pin(removed, false);

    assertThat(picks(selector, context, 20)).containsOnlyKeys("u1", "u2");
    assertThat(context.pinOutcome()).isEqualTo(StickyPin.Outcome.REPINNED);
    assertThat(context.pinReason()).isEqualTo(StickyPin.Reason.GONE);

    // The proxy knows the pinned region from the cookie: sessions move within it first.
    context.failoverFrom("eu-west");
    assertThat(picks(selector, context, 20)).containsOnlyKeys("e1", "e2");

    // Same id, but listed in another region now: not the pinned backend any more.
    SelectionContext moved = new SelectionContext().clientRegion("us-east").pin(backend("e1", "ap"), true);
    assertThat(selector.select(moved)).isNull();
    assertThat(moved.pinOutcome()).isEqualTo(StickyPin.Outcome.REFUSED);
    assertThat(moved.pinReason()).isEqualTo(StickyPin.Reason.GONE);
  }

  @Test
  void resetForgetsThePinItsOutcomeAndTheMovedOrder() {
    health.down.add("e1");
    RegionalSelector selector = selector();
    SelectionContext context = new SelectionContext().clientRegion("us-east").pin(e1, true);
    selector.select(context);
    context.pin(e1, false);
    assertThat(context.pinOutcome()).as("a new pin forgets the last outcome").isEqualTo(StickyPin.Outcome.NONE);
    assertThat(selector.select(context)).isSameAs(e2);
    assertThat(context.orderRegion()).isEqualTo("eu-west");

    context.reset();

    assertThat(context.pinned()).isNull();
    assertThat(context.isPinStrict()).isFalse();
    assertThat(context.pinOutcome()).isEqualTo(StickyPin.Outcome.NONE);
    assertThat(context.pinReason()).isNull();
    assertThat(context.orderRegion()).isNull();
    context.clientRegion("us-east");
    assertThat(context.orderRegion()).isEqualTo("us-east");
    assertThat(picks(selector, context, 10)).containsOnlyKeys("u1", "u2");
    assertThat(context.pinOutcome()).isEqualTo(StickyPin.Outcome.NONE);
  }

  @Test
  void reasonsHaveStableLabels() {
    List<String> labels = new ArrayList<>();
    for (StickyPin.Reason r : StickyPin.Reason.values()) {
      labels.add(r.label());
    }
    assertThat(labels).containsExactly("failed", "unavailable", "residency", "region-dialled-out", "gone",
        "writer-region", "read-your-writes");
  }

  /**
   * A pin moved out of a dead region walks its region's failover order, but its panic state is noted
   * under the client's class: us-east clients are in panic (us-east and eu-west dead), a moved eu-west
   * pin's order (eu-west, ap) is not, and each such request tells the listener "panic over" for
   * us-east, the next unpinned us-east request "panic" again. Fails today: transitions are
   * [true us-east, false us-east, true us-east, false us-east, true us-east, false us-east] and
   * panicking() is empty. Enable once RegionalSelector.notePanic keys its slot by
   * context.orderRegion() rather than context.clientRegion().
   */
  @Test
  void aMovedPinDoesNotFlipThePanicStateOfTheClientsOrder() {
    RegionPolicy policy = new RegionPolicy(Map.of(
        "us-east", List.of("us-east", "eu-west"),
        "eu-west", List.of("eu-west", "ap")), 1.4, 0, Optional.empty(), Optional.empty(), 0.5);
    RegionalSelector selector = new RegionalSelector(backends, health, stats, policy,
        Strategies.factory("round-robin", stats, StrategyOptions.DEFAULTS), random::nextDouble);
    List<String> transitions = new ArrayList<>();
    selector.onPanicChange((panic, region, capacity) -> transitions.add(panic + " " + region));
    health.down.addAll(List.of("u1", "u2", "e1", "e2"));

    for (int i = 0; i < 3; i++) {
      selector.select(new SelectionContext().clientRegion("us-east"));
      SelectionContext pinned = new SelectionContext().clientRegion("us-east").pin(e1, false);
      assertThat(selector.select(pinned)).isSameAs(a1);
    }

    assertThat(transitions).containsExactly("true us-east");
    assertThat(selector.panicking()).containsExactly("us-east");
  }
}
