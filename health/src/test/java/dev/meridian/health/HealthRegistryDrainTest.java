package dev.meridian.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.BackendGroup;
import dev.meridian.balancer.HealthView;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HealthRegistryDrainTest {
  private final HealthRegistry registry = new HealthRegistry();
  private final Backend b1 = new Backend("b1", "127.0.0.1", 9001, "us-east", 1);
  private final Backend b2 = new Backend("b2", "127.0.0.1", 9002, "us-east", 1);

  @Test
  void aDrainingBackendTakesItsPinnedSessionsButNoNewRequests() {
    registry.markOut("b1", HealthRegistry.DRAINING, "drained by an operator");

    assertThat(registry.isAvailable(b1)).isFalse();
    assertThat(registry.isAvailableToPinned(b1)).isTrue();
    assertThat(registry.reasons("b1")).containsExactly(java.util.Map.entry("draining", "drained by an operator"));
    assertThat(registry.isAvailable(b2)).isTrue();
    assertThat(registry.isAvailableToPinned(b2)).isTrue();
  }

  @Test
  void panicMayOverrideChecksButNeverAnOperator() {
    registry.markOut("b1", ActiveHealthChecker.OWNER, "3 failed checks");
    registry.markOut("b2", OutlierDetector.OWNER, "5 consecutive 5xx");
    assertThat(registry.mayServeInPanic(b1)).isTrue();
    assertThat(registry.mayServeInPanic(b2)).isTrue();
    registry.markOut("b1", HealthRegistry.DRAINING, "draining");
    registry.markOut("b2", "operator", "ejected by an operator");
    assertThat(registry.mayServeInPanic(b1)).isFalse();
    assertThat(registry.mayServeInPanic(b2)).isFalse();
    assertThat(registry.readView(Duration.ofSeconds(1)).mayServeInPanic(b1)).isFalse();
    registry.clear("b1", HealthRegistry.DRAINING);
    assertThat(registry.mayServeInPanic(b1)).isTrue();
  }

  @Test
  void aDrainJoinedByAnotherMarkTakesNothing() {
    registry.markOut("b1", HealthRegistry.DRAINING, "drained by an operator");
    registry.markOut("b1", "active-check", "3 failed checks");

    assertThat(registry.isAvailable(b1)).isFalse();
    assertThat(registry.isAvailableToPinned(b1)).isFalse();

    registry.clear("b1", "active-check");
    assertThat(registry.isAvailableToPinned(b1)).as("back to draining only").isTrue();
    registry.clear("b1", HealthRegistry.DRAINING);
    assertThat(registry.isAvailable(b1)).isTrue();
    assertThat(registry.isAvailableToPinned(b1)).isTrue();
  }

  @Test
  void aBackendMarkedOutByAnotherOwnerAloneTakesNoPinnedSessions() {
    registry.markOut("b1", "outlier", "5 consecutive 5xx");
    assertThat(registry.isAvailableToPinned(b1)).isFalse();
    registry.markOut("b2", "operator", "ejected by an operator");
    assertThat(registry.isAvailableToPinned(b2)).isFalse();
  }

  @Test
  void drainingIsATransitionForListeners() {
    List<String> seen = new ArrayList<>();
    registry.addListener((id, available) -> seen.add(id + "=" + available));
    registry.markOut("b1", HealthRegistry.DRAINING, "drained by an operator");
    registry.clear("b1", HealthRegistry.DRAINING);
    assertThat(seen).containsExactly("b1=false", "b1=true");
  }

  @Test
  void theReadViewHoldsPinnedSessionsToTheLagLimitToo() {
    HealthView reads = registry.readView(Duration.ofSeconds(5));
    registry.markOut("b1", HealthRegistry.DRAINING, "drained by an operator");
    assertThat(reads.isAvailable(b1)).isFalse();
    assertThat(reads.isAvailableToPinned(b1)).as("draining, lag unknown").isTrue();

    registry.setReplicationLag("b1", Duration.ofSeconds(5));
    assertThat(reads.isAvailableToPinned(b1)).as("draining, lag at the limit").isTrue();
    registry.setReplicationLag("b1", Duration.ofMillis(5001));
    assertThat(reads.isAvailableToPinned(b1)).as("draining, lag over the limit").isFalse();
    assertThat(registry.isAvailableToPinned(b1)).as("writes ignore lag").isTrue();

    registry.setReplicationLag("b2", Duration.ofSeconds(6));
    assertThat(reads.isAvailableToPinned(b2)).as("available, lag over the limit").isFalse();
    registry.setReplicationLag("b2", null);
    assertThat(reads.isAvailableToPinned(b2)).as("available, lag forgotten").isTrue();
    registry.markOut("b2", "active-check", "3 failed checks");
    assertThat(reads.isAvailableToPinned(b2)).as("checked out, no lag").isFalse();
  }

  @Test
  void slowStartLetsPinnedSessionsThroughWhateverTheRamp() {
    FakeClock clock = new FakeClock();
    BackendGroup group = new BackendGroup("app", List.of(b1, b2));
    // Every draw says "not yet": a ramping backend is offered to no new request.
    SlowStart slowStart = new SlowStart(group, registry, Duration.ofSeconds(60), clock, () -> 0.999_999)
        .attachTo(registry);
    registry.markOut("b1", "active-check", "3 failed checks");
    assertThat(slowStart.isAvailableToPinned(b1)).isFalse();
    registry.clear("b1", "active-check");
    clock.advance(Duration.ofSeconds(1));

    assertThat(slowStart.isRamping(b1)).isTrue();
    assertThat(slowStart.isAvailable(b1)).isFalse();
    assertThat(slowStart.isAvailableToPinned(b1)).isTrue();

    registry.markOut("b1", HealthRegistry.DRAINING, "drained by an operator");
    assertThat(slowStart.isAvailable(b1)).isFalse();
    assertThat(slowStart.isAvailableToPinned(b1)).isTrue();
    registry.markOut("b1", "outlier", "5 consecutive 5xx");
    assertThat(slowStart.isAvailableToPinned(b1)).isFalse();
  }

  @Test
  void slowStartOverTheReadViewKeepsItsLagLimitForPinnedSessions() {
    BackendGroup group = new BackendGroup("app", List.of(b1, b2));
    SlowStart slowStart = new SlowStart(group, registry.readView(Duration.ofSeconds(5)), Duration.ofSeconds(60),
        new FakeClock(), () -> 0.5);
    registry.markOut("b1", HealthRegistry.DRAINING, "drained by an operator");
    assertThat(slowStart.isAvailableToPinned(b1)).isTrue();
    registry.setReplicationLag("b1", Duration.ofSeconds(10));
    assertThat(slowStart.isAvailableToPinned(b1)).isFalse();
  }
}
