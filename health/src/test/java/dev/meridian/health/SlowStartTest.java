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
    HealthView view = SlowStart.wrap(group, registry, registry, Duration.ZERO);
    assertThat(view).isSameAs(registry);
  }
}
