package dev.meridian.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.balancer.Backend;
import org.junit.jupiter.api.Test;

class HealthRegistryTest {
  private final Backend backend = new Backend("b1", "127.0.0.1", 9001, "us-east", 1);

  @Test
  void backendIsAvailableUntilMarkedOut() {
    HealthRegistry registry = new HealthRegistry();
    assertThat(registry.isAvailable(backend)).isTrue();
    registry.markOut("b1", "operator", "drained");
    assertThat(registry.isAvailable(backend)).isFalse();
    assertThat(registry.reasons("b1")).containsEntry("operator", "drained");
  }

  @Test
  void eachOwnersMarkIsClearedSeparately() {
    HealthRegistry registry = new HealthRegistry();
    registry.markOut("b1", "operator", "drained");
    registry.markOut("b1", "active-check", "3 failed checks");
    registry.clear("b1", "operator");
    assertThat(registry.isAvailable(backend)).isFalse();
    registry.clear("b1", "active-check");
    assertThat(registry.isAvailable(backend)).isTrue();
  }
}
