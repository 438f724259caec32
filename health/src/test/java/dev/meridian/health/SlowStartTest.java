package dev.meridian.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.BackendGroup;
import dev.meridian.balancer.HealthView;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SlowStartTest {
  private final FakeClock clock = new FakeClock();
  private final HealthRegistry registry = new HealthRegistry();
  private final Backend b1 = new Backend("b1", "127.0.0.1", 9001, "us-east", 1);
  private final Backend b2 = new Backend("b2", "127.0.0.1", 9002, "us-east", 1);
  private final BackendGroup group = new BackendGroup("app", List.of(b1, b2));
  private final Random random = new Random(42);
  private final SlowStart slowStart =
      new SlowStart(group, registry, Duration.ofSeconds(60), clock, random::nextDouble).attachTo(registry);

  private double availableShare(Backend b) {
    int available = 0;
    int picks = 20_000;
    for (int i = 0; i < picks; i++) {
      if (slowStart.isAvailable(b)) {
        available++;
      }
    }
    return (double) available / picks;
  }

  @Test
  void backendsAvailableFromTheStartDoNotRamp() {
    assertThat(availableShare(b1)).isEqualTo(1.0);
  }

  @Test
  void returningBackendsShareRampsUpLinearly() {
    registry.markOut("b1", "active-check", "3 failed checks: status 500");
    assertThat(slowStart.isAvailable(b1)).isFalse();
    registry.clear("b1", "active-check");

    assertThat(availableShare(b1)).isEqualTo(0.0);
    clock.advance(Duration.ofSeconds(15));
    assertThat(availableShare(b1)).isCloseTo(0.25, within(0.02));
    clock.advance(Duration.ofSeconds(30));
    assertThat(availableShare(b1)).isCloseTo(0.75, within(0.02));
    assertThat(slowStart.isRamping(b1)).isTrue();
    clock.advance(Duration.ofSeconds(15));
    assertThat(availableShare(b1)).isEqualTo(1.0);
    assertThat(slowStart.isRamping(b1)).isFalse();
    assertThat(availableShare(b2)).isEqualTo(1.0);
  }

  @Test
  void theOnlyAvailableBackendIsNotHeldBack() {
    registry.markOut("b1", "outlier", "5 consecutive 5xx");
    registry.clear("b1", "outlier");
    registry.markOut("b2", "operator", "drained");
    assertThat(availableShare(b1)).isEqualTo(1.0);
  }

  @Test
  void hookStartsARampToo() {
    slowStart.becameAvailable(b2);
    clock.advance(Duration.ofSeconds(30));
    assertThat(availableShare(b2)).isCloseTo(0.5, within(0.02));
  }

  @Test
  void zeroDurationIsOff() {
    SlowStartRamps ramps = new SlowStartRamps(clock);
    HealthView view = SlowStart.wrap(group, registry, ramps);
    assertThat(view).isSameAs(registry);
    ramps.start("b1");
    assertThat(ramps.isEmpty()).as("nothing recorded while off").isTrue();
  }

  /**
   * The ramps outlive one view: a rebuild of the group's selectors (a reload, a discovery update)
   * makes a new view over the same ramps, so a ramp under way goes on, a backend the rebuild adds
   * ramps from its start, and the ramps are subscribed to the registry once, never once per view.
   */
  @Test
  void rampsOutliveTheViewsOfOneGroupsRebuilds() {
    SlowStartRamps ramps = new SlowStartRamps(clock);
    ramps.duration(Duration.ofSeconds(60));
    registry.addListener(ramps);
    SlowStart before = new SlowStart(group, registry, ramps, random::nextDouble);
    registry.markOut("b1", "active-check", "3 failed checks");
    registry.clear("b1", "active-check");
    clock.advance(Duration.ofSeconds(30));

    Backend b3 = new Backend("b3", "127.0.0.1", 9003, "us-east", 1);
    BackendGroup grown = new BackendGroup("app", List.of(b1, b2, b3));
    ramps.retainOnly(List.of("b1", "b2", "b3"));
    ramps.start("b3");
    SlowStart after = new SlowStart(grown, registry, ramps, random::nextDouble);

    assertThat(after.isRamping(b1)).as("the ramp under way goes on").isTrue();
    assertThat(after.isRamping(b3)).as("an added backend ramps").isTrue();
    assertThat(after.isRamping(b2)).isFalse();
    assertThat(before.isRamping(b1)).isTrue();
    clock.advance(Duration.ofSeconds(30));
    assertThat(after.isRamping(b1)).isFalse();
    assertThat(after.isRamping(b3)).isTrue();

    ramps.retainOnly(List.of("b1", "b2"));
    assertThat(ramps.contains("b3")).as("a removed backend's ramp is forgotten").isFalse();
  }
}
